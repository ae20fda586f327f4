"""Instants and windows in query parameters (``since``/``until``, ``start``/``end``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


class WindowInvalid(ValueError):
    """A bad timeframe/start/end; ``param`` names the query parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


def parse_instant(raw: str, param: str, *, end: bool) -> datetime:
    """An ISO 8601 date or date-time (UTC unless it says); a bare date as an ``end``
    means the end of that day. Raises ``WindowInvalid`` naming ``param``."""
    try:
        # a bare date first: parse_datetime also reads "2024-01-15" (as midnight)
        day = parse_date(raw) if len(raw) == 10 else None
        value = None if day is not None else parse_datetime(raw)
    except ValueError:  # well-formed but impossible (month 13)
        value = day = None
    if value is None:
        if day is None:
            raise WindowInvalid(
                param, "An ISO 8601 date or date-time, e.g. 2024-01-15 or 2024-01-15T10:30:00Z."
            )
        # an end date includes that whole day
        value = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value
