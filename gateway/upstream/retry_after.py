"""`Retry-After` as the upstreams send it.

Monite sends seconds; Moneybird sends an epoch timestamp; RFC 9110 also allows
an HTTP date. All three become "seconds from now", never negative.
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime

DEFAULT_RETRY_AFTER = 1.0
# A number this large cannot be a delay in seconds; it is a Unix timestamp.
_EPOCH_THRESHOLD = 1_000_000_000


def parse_retry_after(value: str | None, *, now: float | None = None) -> float:
    if not value:
        return DEFAULT_RETRY_AFTER
    current = time.time() if now is None else now
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        return max(0.0, round(moment.timestamp() - current, 3))
    if not math.isfinite(number) or number < 0:
        return DEFAULT_RETRY_AFTER
    if number >= _EPOCH_THRESHOLD:
        return max(0.0, round(number - current, 3))
    return number
