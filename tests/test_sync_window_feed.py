"""sync/window_feed.py: a window's batches in order through memory and the spool file."""

from __future__ import annotations

import errno
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tap_restgeneric.sync import window_feed
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
    assert len(f._ends) == 5 - IN_MEMORY
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


class SmallFile(io.FileIO):
    """A temporary file that takes ``room`` bytes, then fails as a full disk does."""

    room = 0

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > SmallFile.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def small_spool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, room: int) -> None:
    """Feeds' spool files hold ``room`` bytes."""
    SmallFile.room = room

    def temporary_file(**_: Any) -> SmallFile:
        return SmallFile(tmp_path / f"spool-{len(list(tmp_path.iterdir()))}", "w+")

    monkeypatch.setattr("tap_restgeneric.sync.window_feed.tempfile.TemporaryFile", temporary_file)


def test_no_room_in_the_spool_makes_the_writer_wait_and_keeps_the_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    small_spool(monkeypatch, tmp_path, room=2 * (len(window_feed._encode(batch(1))) + 1))
    full: list[OSError] = []
    f = Feed(Window(None, None, closed_end=False), full.append)
    f.put(batch(0))  # memory
    f.put(batch(1))  # spool
    f.put(batch(2))  # spool: full now
    assert len(f._ends) == 2 and full == []

    def put_the_rest() -> None:
        for n in range(3, 8):
            f.put(batch(n))

    writer = threading.Thread(target=put_the_rest)
    writer.start()  # batch 3 finds no room: the writer waits for the reader
    writer.join(0.3)
    assert writer.is_alive() and len(full) == 1 and full[0].errno == errno.ENOSPC
    taken = [f.take(5) for _ in range(8)]
    writer.join(5)
    assert taken == [batch(n) for n in range(8)]  # memory, the spool, then the rest in order
    f.close()


def test_close_releases_a_writer_waiting_for_room(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    small_spool(monkeypatch, tmp_path, room=0)
    f = Feed(Window(None, None, closed_end=False))
    f.put(batch(0))
    writer = threading.Thread(target=f.put, args=(batch(1),))
    writer.start()
    writer.join(0.2)
    assert writer.is_alive()  # waits for the reader to take batch 0
    f.close()
    writer.join(5)
    assert not writer.is_alive()
