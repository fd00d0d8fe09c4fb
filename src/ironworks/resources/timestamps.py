"""Times in answers: ISO 8601 with an explicit UTC offset, as Ironic writes them."""

from __future__ import annotations

import datetime as dt


def iso(value: dt.datetime | None) -> str | None:
    """``value`` as Ironic renders a timestamp; a naive time (SQLite drops the zone) is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.isoformat() + "+00:00"
    return value.isoformat()
