"""The garbage collector runs less often while a PDF is laid out, and is left as it was found afterwards."""

from __future__ import annotations

import gc
import threading

from fbss.reports.collector import LAYOUT_THRESHOLD, fewer_collections
from fbss.reports.documents import render_pdf


def test_the_threshold_is_raised_while_rendering_and_restored_after() -> None:
    found = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (max(found[0], LAYOUT_THRESHOLD), found[1], found[2])
        with fewer_collections():  # a second render at the same time
            pass
        assert gc.get_threshold()[0] == max(found[0], LAYOUT_THRESHOLD)  # still laying out the first
    assert gc.get_threshold() == found
    render_pdf("<p>FBSS Navigator</p>")
    assert gc.get_threshold() == found


def test_concurrent_renders_leave_the_collector_as_found() -> None:
    found = gc.get_threshold()
    threads = [threading.Thread(target=render_pdf, args=(f"<p>report {n}</p>",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.get_threshold() == found


def test_a_collector_switched_off_stays_off() -> None:
    found = gc.get_threshold()
    try:
        gc.set_threshold(0)
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*found)
