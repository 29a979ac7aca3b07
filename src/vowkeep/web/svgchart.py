"""Small server-rendered SVG charts for the console: pure functions from numbers to escaped SVG markup.

No script and nothing fetched: the markup goes straight into the page, so the console's strict Content-Security-Policy
holds. Every label passes through `markupsafe.escape` (labels can be page paths or referrers visitors sent), and each
chart carries a <title> and <desc> so a screen reader announces it; the pages show the same numbers as a table too.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# Colours with at least 4.5:1 contrast on white, told apart by more than hue (the legend names them too).
PALETTE = ("#0b5cad", "#a01919", "#8a4b00", "#1d6b34", "#5a3d99", "#555e68")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(title: str, description: str, width: int, height: int, body: list[str], chart_id: str) -> Markup:
    ident = escape(chart_id)
    # Every piece of text in `body` was escaped where it was built; the rest is our own numbers and tags.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(
    title: str, bars: Sequence[tuple[str, int]], *, chart_id: str = "bars", width: int = 640, bar_height: int = 22
) -> Markup:
    """Horizontal bars, one per (label, count), longest scaled to the width; labels on the left, counts at the end."""
    label_width, gap, top = 180, 6, 8
    height = top * 2 + max(len(bars), 1) * (bar_height + gap)
    peak = max((count for _, count in bars), default=0) or 1
    room = width - label_width - 60
    body: list[str] = []
    if not bars:
        body.append(f'<text x="0" y="{top + 14}" {FONT} fill="#555e68">No data yet.</text>')
    for i, (label, count) in enumerate(bars):
        y = top + i * (bar_height + gap)
        length = max(room * count / peak, 1 if count else 0)
        text = str(label)
        short = text if len(text) <= 28 else text[:27] + "…"
        body.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.7:.0f}" text-anchor="end" {FONT} fill="#1b1f24">'
            f"{escape(short)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{_number(length)}" height="{bar_height}" fill="{PALETTE[0]}">'
            f"<title>{escape(text)}: {count}</title></rect>"
            f'<text x="{label_width + length + 6:.1f}" y="{y + bar_height * 0.7:.0f}" {FONT} fill="#1b1f24">'
            f"{count}</text>"
        )
    description = "; ".join(f"{label}: {count}" for label, count in bars) or "no data"
    return _frame(title, description, width, height, body, chart_id)


def column_chart(
    title: str, series: Sequence[tuple[str, int]], *, chart_id: str = "columns", width: int = 640, height: int = 220
) -> Markup:
    """Vertical columns over time (label, count) — e.g. views per day — with the first and last label underneath."""
    left, bottom, top = 40, 24, 10
    plot_h = height - bottom - top
    peak = max((count for _, count in series), default=0) or 1
    step = (width - left) / max(len(series), 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#8a939c"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" {FONT} fill="#555e68">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" {FONT} fill="#555e68">0</text>',
    ]
    if not series:
        body.append(f'<text x="{left + 8}" y="{top + plot_h / 2:.0f}" {FONT} fill="#555e68">No data yet.</text>')
    for i, (label, count) in enumerate(series):
        h = plot_h * count / peak
        x = left + i * step + step * 0.1
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {count}</title></rect>'
        )
    if series:
        body.append(f'<text x="{left}" y="{height - 6}" {FONT} fill="#555e68">{escape(series[0][0])}</text>')
        body.append(
            f'<text x="{width}" y="{height - 6}" text-anchor="end" {FONT} fill="#555e68">{escape(series[-1][0])}</text>'
        )
    description = "; ".join(f"{label}: {count}" for label, count in series) or "no data"
    return _frame(title, description, width, height, body, chart_id)


def stacked_bars(
    title: str,
    rows: Sequence[tuple[str, dict[str, int]]],
    segments: Sequence[str],
    *,
    chart_id: str = "stacked",
    width: int = 640,
    bar_height: int = 22,
) -> Markup:
    """One horizontal bar per row, split into `segments` (e.g. given / refused / withdrawn per purpose), with a
    legend; each bar is scaled to the largest row total."""
    label_width, gap, top, legend_h = 180, 6, 8, 24
    height = legend_h + top * 2 + max(len(rows), 1) * (bar_height + gap)
    peak = max((sum(parts.values()) for _, parts in rows), default=0) or 1
    room = width - label_width - 60
    body: list[str] = []
    x = 0
    for i, segment in enumerate(segments):
        colour = PALETTE[i % len(PALETTE)]
        body.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="14" {FONT} fill="#1b1f24">{escape(segment)}</text>'
        )
        x += 24 + 8 * len(str(segment))
    if not rows:
        body.append(f'<text x="0" y="{legend_h + top + 14}" {FONT} fill="#555e68">No data yet.</text>')
    for r, (label, parts) in enumerate(rows):
        y = legend_h + top + r * (bar_height + gap)
        body.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.7:.0f}" text-anchor="end" {FONT} fill="#1b1f24">'
            f"{escape(label)}</text>"
        )
        offset = float(label_width)
        for i, segment in enumerate(segments):
            count = parts.get(segment, 0)
            if not count:
                continue
            length = room * count / peak
            body.append(
                f'<rect x="{offset:.1f}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}, {escape(segment)}: {count}</title></rect>'
            )
            offset += length
        body.append(
            f'<text x="{offset + 6:.1f}" y="{y + bar_height * 0.7:.0f}" {FONT} fill="#1b1f24">'
            f"{sum(parts.values())}</text>"
        )
    description = "; ".join(
        f"{label}: " + ", ".join(f"{s} {parts.get(s, 0)}" for s in segments) for label, parts in rows
    )
    return _frame(title, description or "no data", width, height, body, chart_id)
