"""sync/window_feed.py: a window's batches in order through memory and the spool file."""

from __future__ import annotations

import threading
from decimal import Decimal

from tap_restgeneric.sync.bookmarks import Window
from tap_restgeneric.sync.window_feed import IN_MEMORY, Feed, Finished


def feed() -> Feed:
    """A feed for an unbounded window."""
    return Feed(Window(None, None, closed_end=False))


def batch(n: int) -> list[dict[str, object]]:
    """A batch holding one record with id ``n``."""
    return [{"id": n, "big": 10**30, "text": "é\u2028", "nested": {"list": [n, None]}}]


def test_batches_come_out_in_order_through_memory_and_spool() -> None:
    f = feed()
    for n in range(10):
        f.put(batch(n))
    assert f.take(0) == batch(0)
    f.put(batch(10))  # the spool holds 1..9: this one goes after them, not into memory
    f.finish(Finished(None))
    taken = []
    while not isinstance(item := f.take(0), Finished):
        assert item is not None
        taken.append(item)
    assert taken == [batch(n) for n in range(1, 11)]
    assert f.take(0) == Finished(None)  # and again, once finished
    f.close()


def test_memory_holds_at_most_in_memory_batches() -> None:
    f = feed()
    for n in range(5):
        f.put(batch(n))
    assert len(f._memory) == IN_MEMORY
    assert f._spooled == 5 - IN_MEMORY
    f.close()


def test_a_spool_read_to_its_end_starts_afresh() -> None:
    f = feed()
    for n in range(3):
        f.put(batch(n))
    for n in range(3):
        assert f.take(0) == batch(n)
    assert f._spool is not None and f._spool.seek(0, 2) == 0  # emptied
    for n in range(3, 6):
        f.put(batch(n))
    assert [f.take(0) for _ in range(3)] == [batch(n) for n in range(3, 6)]
    f.close()


def test_decimals_from_a_large_page_come_back_as_numbers() -> None:
    f = feed()
    f.put([{"id": 0}])
    f.put([{"id": 1, "price": Decimal("1.25")}])
    assert f.take(0) == [{"id": 0}]
    assert f.take(0) == [{"id": 1, "price": 1.25}]
    f.close()


def test_take_waits_for_the_writer_and_returns_none_on_timeout() -> None:
    f = feed()
    assert f.take(0.01) is None
    timer = threading.Timer(0.05, f.put, args=(batch(1),))
    timer.start()
    assert f.take(5) == batch(1)
    timer.join()
    f.close()


def test_after_close_puts_are_dropped_and_the_spool_is_gone() -> None:
    f = feed()
    for n in range(4):
        f.put(batch(n))
    spool = f._spool
    f.close()
    assert spool is not None and spool.closed
    f.put(batch(9))
    assert f._spool is None
    f.finish(Finished(None))
    assert f.take(0) == Finished(None)
