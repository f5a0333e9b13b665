"""Garbage collector settings for a process that serves requests.

A request allocates tens of thousands of short-lived objects (an upstream page
of contacts alone is thousands), so CPython's default gen-0 threshold would run
a collection dozens of times per request, and every older-generation pass would
walk the schema, the modules and the caches again.

Objects alive once the app has started are moved out of the collector's sight,
and collections run after 50,000 net allocations. Reference cycles (mostly
exceptions with their tracebacks) are still collected, a little later.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 100


def settle() -> None:
    """Call once the app is built: freeze what lives for the whole process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
