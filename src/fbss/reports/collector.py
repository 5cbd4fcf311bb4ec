"""Run Python's cyclic garbage collector less often while a PDF is laid out.

WeasyPrint makes hundreds of thousands of short-lived objects per report (boxes, styles, text lines), almost all
freed by reference counting. At the default threshold (a collection every 700 net allocations) the collector walks
them about 160 times a report and promotes survivors into older generations that it then walks again; every 10,000
it runs a few times. That is 7-10 % of a report's CPU time (bench/report_bench.py); nothing drawn changes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LAYOUT_THRESHOLD = 10_000  # net allocations between young-generation collections while a report is laid out

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the young-generation threshold for the duration; restored when the last concurrent render ends."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            if _saved[0]:  # 0: collection is switched off, leave it so
                gc.set_threshold(max(_saved[0], LAYOUT_THRESHOLD), _saved[1], _saved[2])
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
