"""The console's SVG chart helper: pure functions, labels escaped, scaled to the data, accessible (title, desc)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from vowkeep.web import svgchart

NS = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    # Our own markup, built in the test: parsing it proves it is well-formed XML.
    return ET.fromstring(markup)  # noqa: S314


def test_bar_chart_scales_bars_to_the_largest_and_escapes_labels():
    svg = svgchart.bar_chart("Top <pages>", [("/a?x=<script>alert(1)</script>", 10), ("/b", 5)], chart_id="p")
    root = parse(str(svg))  # well-formed XML: nothing unescaped broke it
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert root.find(f"{NS}title").text == "Top <pages>"
    widths = [float(r.get("width")) for r in root.iter(f"{NS}rect")]
    assert len(widths) == 2 and abs(widths[0] - 2 * widths[1]) < 0.01
    assert root.get("role") == "img" and root.get("aria-labelledby") == "p-t p-d"
    assert "/b: 5" in root.find(f"{NS}desc").text


def test_column_chart_one_column_per_point_and_an_empty_chart_says_so():
    svg = svgchart.column_chart("Views", [("2026-01-01", 0), ("2026-01-02", 4), ("2026-01-03", 2)])
    root = parse(str(svg))
    heights = [float(r.get("height")) for r in root.iter(f"{NS}rect")]
    assert heights[0] == 0 and heights[1] == 2 * heights[2]
    empty = svgchart.column_chart("Views", [])
    assert "No data yet." in empty and "no data" in empty
    parse(str(empty))


def test_stacked_bars_split_each_row_into_segments_with_a_legend():
    svg = svgchart.stacked_bars(
        "Consent",
        [("Marketing & <b>", {"given": 3, "refused": 1}), ("Ads", {"withdrawn": 2})],
        ("given", "refused", "withdrawn"),
    )
    root = parse(str(svg))
    titles = [t.text for t in root.iter(f"{NS}title")][1:]
    assert titles == ["Marketing & <b>, given: 3", "Marketing & <b>, refused: 1", "Ads, withdrawn: 2"]
    assert "&amp; &lt;b&gt;" in svg
    legend = [t.text for t in root.iter(f"{NS}text")][:3]
    assert legend == ["given", "refused", "withdrawn"]
    assert not re.search(r"<script|href=", svg)
