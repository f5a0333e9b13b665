from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from gateway.upstream.retry_after import DEFAULT_RETRY_AFTER, parse_retry_after

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),  # Monite: seconds
        ("0", 0.0),
        (str(int(NOW) + 30), 30.0),  # Moneybird: an epoch timestamp
        (str(int(NOW) - 30), 0.0),  # a moment already past
        (None, DEFAULT_RETRY_AFTER),
        ("soon", DEFAULT_RETRY_AFTER),
        ("-5", DEFAULT_RETRY_AFTER),
        ("inf", DEFAULT_RETRY_AFTER),
        ("nan", DEFAULT_RETRY_AFTER),
    ],
)
def test_retry_after_as_seconds_or_epoch(header: str | None, seconds: float) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_retry_after_as_an_http_date() -> None:
    header = "Fri, 15 Jan 2027 08:00:30 GMT"
    now = parsedate_to_datetime(header).timestamp() - 30
    assert parse_retry_after(header, now=now) == 30.0
