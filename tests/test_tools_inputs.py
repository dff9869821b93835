"""The files ``restgeneric`` reads besides configs and OpenAPI documents — a dlt snippet, state
files, a partitions manifest — within a config file's limits (size, UTF-8, nesting): one line
naming the file and exit status 1, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tap_restgeneric.tools import __main__ as tools
from tap_restgeneric.tools import importer

DEEP = "[" * 5000 + "]" * 5000  # past Python's recursion: a RecursionError before


def fails_with(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    """``restgeneric *argv`` exits 1 with exactly the line ``expected``."""
    status = tools.main(argv)
    assert (status, capsys.readouterr().err.splitlines()) == (1, [expected])


def test_dlt_snippet_size_and_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    snippet = tmp_path / "source.py"
    snippet.write_text('source = rest_api_source({"client": {"base_url": "https://x"}})\n' * 20)
    monkeypatch.setattr(importer, "MAX_CONFIG_BYTES", 1024 * 1024)
    assert tools.main(["import-dlt", str(snippet)]) == 0
    capsys.readouterr()
    snippet.write_text("# " + "x" * (1024 * 1024) + "\n")
    fails_with(
        capsys,
        ["import-dlt", str(snippet)],
        f"snippet file {snippet} is larger than 1 MB; expected a dlt snippet file of at most "
        "1 MB (1,048,576 bytes)",
    )
    snippet.write_bytes(b"# caf\xe9\n")
    fails_with(
        capsys,
        ["import-dlt", str(snippet)],
        f"snippet file {snippet} is not UTF-8 text: byte 0xe9 at line 1 column 6 (byte 5) cannot "
        "be decoded (invalid continuation byte); expected a file saved as UTF-8",
    )


def test_merge_state_files_and_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "partitions.json"
    manifest.write_text(json.dumps([{"name": "all", "state_id": "all", "streams": ["a"]}]))
    state = tmp_path / "all.json"
    state.write_text('{"bookmarks": ' + DEEP + "}")
    argv = ["partitions", "--merge-state", str(state), "--manifest", str(manifest)]
    fails_with(
        capsys,
        argv,
        f"state file {state}: nested more than 100 levels deep at line 1 column 114; expected "
        "at most 100 levels of objects and lists",
    )
    state.write_text('{"bookmarks": {}')
    fails_with(
        capsys,
        argv,
        f"state file {state} is not valid JSON: Expecting ',' delimiter at line 1 column 17",
    )
    manifest.write_text(DEEP)
    fails_with(
        capsys,
        argv,
        f"manifest file {manifest}: nested more than 100 levels deep at line 1 column 101; "
        "expected at most 100 levels of objects and lists",
    )


def test_preview_state_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"client": {"base_url": "http://127.0.0.1:9"}, "resources": ["a"]})
    )
    state = tmp_path / "state.json"
    state.write_text(DEEP)
    fails_with(
        capsys,
        ["preview", str(config), "--state", str(state)],
        f"state file {state}: nested more than 100 levels deep at line 1 column 101; expected at "
        "most 100 levels of objects and lists",
    )
    fails_with(
        capsys,
        ["preview", str(config), "--state", str(tmp_path / "missing.json")],
        f"cannot read state file {tmp_path / 'missing.json'}: No such file or directory",
    )
