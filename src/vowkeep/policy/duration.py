"""ISO-8601 durations (`P1M`, `P30D`, `P1Y6M`, `PT12H`) as retention periods and lifetimes.

Calendar arithmetic is used where a deadline is computed (`add_to`), and a nominal length
(a month is 30.436875 days, a year 365.2425) where two durations are compared, so that
`P30D` fits under a cap of `P1M` and `P31D` does not.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_PATTERN = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_DAYS_PER_MONTH = 30.436875
_DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True, order=False)
class Duration:
    """A calendar duration: years and months are calendar units, the rest exact."""

    years: int = 0
    months: int = 0
    days: int = 0
    seconds: int = 0
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse an ISO-8601 duration; raise ValueError naming the text when it is not one."""
        if not isinstance(text, str):
            raise ValueError(f"expected an ISO-8601 duration such as P30D or P1M, got {text!r}")
        match = _PATTERN.match(text.strip().upper())
        if not match:
            raise ValueError(f"'{text}' is not an ISO-8601 duration (examples: P30D, P1M, P1Y, PT12H)")
        part = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
        years, months = part["years"], part["months"]
        if years > 1000 or months > 12000 or part["weeks"] > 52000 or part["days"] > 365000:
            raise ValueError(f"'{text}' is longer than a thousand years")
        return cls(
            years=years,
            months=months,
            days=part["weeks"] * 7 + part["days"],
            seconds=part["hours"] * 3600 + part["minutes"] * 60 + part["seconds"],
            text=text.strip().upper(),
        )

    @property
    def nominal_days(self) -> float:
        """Length in days with average months and years, for comparing durations."""
        return self.years * _DAYS_PER_YEAR + self.months * _DAYS_PER_MONTH + self.days + self.seconds / 86400

    def add_to(self, moment: datetime) -> datetime:
        """The moment this duration after `moment`, months clamped to the month's last day."""
        month_index = moment.month - 1 + self.months + 12 * self.years
        year = moment.year + month_index // 12
        month = month_index % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        shifted = moment.replace(year=year, month=month, day=day)
        return shifted + timedelta(days=self.days, seconds=self.seconds)

    def describe(self) -> str:
        """Plain-language length for notices: `1 month`, `30 days`, `1 year and 6 months`."""
        parts = []
        for amount, unit in (
            (self.years, "year"),
            (self.months, "month"),
            (self.days, "day"),
            (self.seconds // 3600, "hour"),
            ((self.seconds % 3600) // 60, "minute"),
        ):
            if amount:
                parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
        if not parts:
            return "no time"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    def __lt__(self, other: Duration) -> bool:
        return self.nominal_days < other.nominal_days

    def __le__(self, other: Duration) -> bool:
        return self.nominal_days <= other.nominal_days

    def __gt__(self, other: Duration) -> bool:
        return self.nominal_days > other.nominal_days

    def __ge__(self, other: Duration) -> bool:
        return self.nominal_days >= other.nominal_days

    def __str__(self) -> str:
        return self.text
