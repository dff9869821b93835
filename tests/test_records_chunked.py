"""records/chunked.py: the chunked parse of a large body, its StreamedRecords, and the selector
paths it can read along (``chunk_keys``, ``reads_into``, ``guess_path``)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from large_api import encode

from tap_restgeneric.records.selectors import (
    ChunkedParse,
    StreamedRecords,
    chunk_keys,
    guess_path,
    reads_into,
)

# --------------------------------------------------------------------------------------------
# Units


def test_chunked_parse_builds_the_rest_of_the_document(tmp_path: Path) -> None:
    doc = {"a": 1, "page": {"rows": [{"id": i} for i in range(7)], "n": 7}, "next": "x"}
    path = tmp_path / "doc.json"
    path.write_bytes(encode(doc))
    with path.open("rb") as file:
        parse = ChunkedParse(file, ("page", "rows"), chunk=3)
        chunks = list(parse)
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [r for c in chunks for r in c] == doc["page"]["rows"]  # type: ignore[index]
    assert parse.body == {"a": 1, "page": {"rows": [], "n": 7}, "next": "x"}
    assert parse.streamed
    assert parse.records == 7


def test_chunked_parse_of_numbers_matches_msgspec(tmp_path: Path) -> None:
    text = (
        b'{"data":[{"i":1,"f":1.0,"e":1e3,"n":-0,"b":123456789012345678901234567890,"s":1.5e-9}]}'
    )
    path = tmp_path / "doc.json"
    path.write_bytes(text)
    with path.open("rb") as file:
        got = [r for c in ChunkedParse(file, ("data",)) for r in c]
    expected = msgspec.json.decode(text)["data"]
    assert got == expected
    assert [type(v) for v in got[0].values()] == [type(v) for v in expected[0].values()]


def test_streamed_records_hold_the_count_first_chunk_and_last() -> None:
    records = StreamedRecords(10, [{"id": 1}, {"id": 2}], {"id": 10})
    assert len(records) == 10
    assert records
    assert records[0] == {"id": 1}
    assert records[-1] == records[9] == {"id": 10}
    with pytest.raises(IndexError, match="record 5 is not available"):
        records[5]
    with pytest.raises(TypeError, match="iterating over its records is not available"):
        list(records)


def test_paths_that_can_be_parsed_in_chunks() -> None:
    assert chunk_keys("$") == ()
    assert chunk_keys("data") == ("data",)
    assert chunk_keys("$.a.b") == ("a", "b")
    assert chunk_keys("items[*].data") is None
    assert not reads_into("next", ("data",))
    assert reads_into("data[-1].id", ("data",))
    assert reads_into("$[0].next", ())
    assert not reads_into("meta[0].next", ("data",))


def test_guess_path_from_the_head() -> None:
    assert guess_path(b"  [1, 2") == "$"
    assert guess_path(b'{"meta":{"x":[1]},"data":[{"id":1},') == "data"
    assert guess_path(b'{"a":{"b":{"results":[{"id"') == "a.b.results"
    assert guess_path(b'{"a":{"b":{"c":{"data":[') is None  # four keys deep
    assert guess_path(b'{"list":[{"data":[1]}],"other":') is None  # inside an array
    assert guess_path(b'{"x":"y"') is None
    assert guess_path(b"<html>") is None
