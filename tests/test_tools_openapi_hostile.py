"""``restgeneric import-openapi`` on hostile documents (SPEC §9): every one ends with one line and
exit status 1, no traceback, no hang — billion laughs, deep nesting, recursive aliases, long
``$ref`` chains, a remote document reaching for local files, oversized or dripping downloads."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests_mock
from local_server import LocalHandler, LocalServer

from tap_restgeneric.tools import __main__ as tools
from tap_restgeneric.tools.openapi import loading

ITEMS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "object", "properties": {"id": {"type": "integer"}}},
}
HEAD = 'openapi: "3.0.0"\ninfo: {title: t, version: "1"}\nservers: [{url: "http://127.0.0.1:9"}]\n'
PATHS = (
    "paths:\n  /items:\n    get:\n      responses:\n        '200':\n          description: ok\n"
    "          content: {application/json: {schema: {type: array, items: %s}}}\n"
)


def document(schemas: dict[str, Any] | None = None, items: Any = None) -> dict[str, Any]:
    """A 3.0 document with one list endpoint /items, its records ``items``."""
    content = {"application/json": {"schema": {"type": "array", "items": items or ITEMS["items"]}}}
    ok = {"description": "ok", "content": content}
    return {
        "openapi": "3.0.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "components": {"schemas": schemas or {}},
        "paths": {"/items": {"get": {"responses": {"200": ok}}}},
    }


def too_large(limit: int) -> str:
    """The reason given for a document over ``limit`` bytes."""
    return f"larger than {limit:,} bytes, the most a document may have"


def run(spec: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``restgeneric import-openapi SPEC``: its exit status and stderr lines."""
    status = tools.main(["import-openapi", spec])
    return status, capsys.readouterr().err.splitlines()


def fails_with(spec: str, capsys: pytest.CaptureFixture[str], expected: str) -> None:
    """The import exits 1 with exactly one line, ``expected``."""
    status, lines = run(spec, capsys)
    assert (status, lines) == (1, [expected])


def test_billion_laughs_yaml_is_refused_before_anything_walks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twelve levels of ten aliases (10^12 values once expanded) inside a response schema."""
    lines = ["x0: &a0 [{type: string}, {type: string}, {type: string}, {type: string}]"]
    for level in range(1, 12):
        lines.append(f"x{level}: &a{level} [" + ", ".join([f"{{allOf: *a{level - 1}}}"] * 10) + "]")
    text = HEAD + "\n".join(lines) + "\n" + PATHS % "{type: object, properties: {b: {allOf: *a11}}}"
    path = tmp_path / "laughs.yaml"
    path.write_text(text)
    expected = f"{path} holds more than 10,000,000 values with its YAML aliases expanded"
    fails_with(str(path), capsys, expected)  # refused before the importer walks it (for hours)


def test_a_few_aliases_are_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD + "x: &item {type: object, properties: {id: {type: integer}}}\n" + PATHS % "*item"
    path = tmp_path / "aliases.yaml"
    path.write_text(text)
    status, lines = run(str(path), capsys)
    assert status == 0 and "validate: OK (restgeneric validate passes)" in lines


def test_recursive_yaml_alias(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "recursive.yaml"
    path.write_text(HEAD + "x: &a [1, *a]\n" + PATHS % "{type: object}")
    fails_with(str(path), capsys, f"{path} contains itself (a recursive YAML alias)")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", '{"openapi": "3.0.0", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("deep.yaml", HEAD + "x: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("deeper_than_200.json", '{"openapi": "3.0.0", "x": ' + "[" * 300 + "]" * 300 + "}"),
    ],
)
def test_deep_nesting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    """Past the parser's recursion (a RecursionError before) or past 200 levels."""
    path = tmp_path / name
    path.write_text(text)
    fails_with(str(path), capsys, f"{path} nests objects and lists more than 200 levels deep")


def test_a_schema_nested_190_levels_deep_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item: dict[str, Any] = {"type": "object", "properties": {"id": {"type": "integer"}}}
    inner = item
    for _ in range(88):  # two levels each, inside 14 levels of document
        inner["properties"]["n"] = inner = {"type": "object", "properties": {}}
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(document(items=item)))
    status, lines = run(str(path), capsys)
    assert status == 0 and "validate: OK (restgeneric validate passes)" in lines


def test_ref_chain_and_ref_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chain: dict[str, Any] = {
        f"S{i}": {"$ref": f"#/components/schemas/S{i + 1}"} for i in range(100)
    }
    chain["S100"] = ITEMS["items"]
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(document(chain, {"$ref": "#/components/schemas/S0"})))
    uri = path.resolve().as_uri()
    fails_with(
        str(path),
        capsys,
        f"$ref '#/components/schemas/S64' at {uri}: more than 64 references to references",
    )
    cycle = {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}
    path.write_text(json.dumps(document(cycle, {"$ref": "#/components/schemas/A"})))
    fails_with(str(path), capsys, f"$ref '#/components/schemas/A' at {uri}: a cycle of references")


def test_a_remote_document_may_not_refer_to_local_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A document fetched over HTTP cannot make the importer read this machine's files."""
    local = tmp_path / "local.json"
    local.write_text(json.dumps({"Item": ITEMS["items"]}))
    ref = local.resolve().as_uri() + "#/Item"
    with requests_mock.Mocker() as mock:
        mock.get("http://api.test/openapi.json", json=document(items={"$ref": ref}))
        fails_with(
            "http://api.test/openapi.json",
            capsys,
            f"$ref {ref!r} in http://api.test/openapi.json: a document read over HTTP may not "
            "refer to a local file",
        )
    # the same reference from a local document is followed
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document(items={"$ref": ref})))
    assert run(str(path), capsys)[0] == 0


@dataclass
class Doc:
    """What the document server sends: the body, in pieces of ``piece`` bytes ``pause`` apart,
    with a Content-Length or chunked."""

    body: bytes
    piece: int
    pause: float
    chunked: bool = False


class DocHandler(LocalHandler):
    """Serves the server's ``doc`` at any path."""

    def do_GET(self) -> None:
        doc: Doc = self.server.owner.doc
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if doc.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(doc.body)))
            self.end_headers()
            for at in range(0, len(doc.body), doc.piece):
                piece = doc.body[at : at + doc.piece]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if doc.chunked else piece)
                self.wfile.flush()
                time.sleep(doc.pause)
            if doc.chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the importer hung up
            self.close_connection = True


@dataclass
class DocServer(LocalServer):
    """One document at every path."""

    doc: Doc = field(default_factory=lambda: Doc(b"", 1, 0.0))
    handler = DocHandler


def test_downloads_are_bounded_in_size_and_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps(document()).encode()
    monkeypatch.setattr(loading, "MAX_BYTES", len(body) - 1)
    monkeypatch.setattr(loading, "TIMEOUT", 1.0)
    with DocServer() as server:
        url = server.url + "/openapi.json"
        server.doc = Doc(body, len(body), 0.0)  # announced by Content-Length
        fails_with(url, capsys, f"cannot fetch {url}: {too_large(len(body) - 1)}")
        server.doc = Doc(body, 100, 0.0, chunked=True)  # counted as it arrives
        fails_with(url, capsys, f"cannot fetch {url}: {too_large(len(body) - 1)}")
        monkeypatch.setattr(loading, "MAX_BYTES", 1 << 20)
        server.doc = Doc(body, 1, 0.05)  # a byte every 50 ms: whole in about 20 s
        started = time.monotonic()
        fails_with(url, capsys, f"cannot fetch {url}: not complete within 1 s")
        assert time.monotonic() - started < 10  # the deadline, not the body's 20 s
        server.doc = Doc(body, 200, 0.01, chunked=True)  # slow but within the limits: fine
        status, lines = run(url, capsys)
        assert status == 0 and "validate: OK (restgeneric validate passes)" in lines


def test_local_files_are_bounded_and_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document()))
    monkeypatch.setattr(loading, "MAX_BYTES", 100)
    fails_with(
        str(path),
        capsys,
        f"cannot read {path}: " + too_large(100),
    )
    fails_with("/dev/zero", capsys, "cannot read /dev/zero: " + too_large(100))
    path.write_bytes(b'{"openapi": "3.0.0", "info": {"title": "caf\xe9"}}')
    fails_with(str(path), capsys, f"cannot read {path}: not UTF-8 text (invalid continuation byte)")


def test_anything_unforeseen_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom at https://api.test/x?api_key=s3cr3t-value")

    monkeypatch.setattr(loading, "load", broken)
    monkeypatch.setattr("tap_restgeneric.tools.openapi.command.load", broken)
    status, lines = run("openapi.json", capsys)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("unexpected error: RuntimeError: boom at https://api.test/x?")
    assert lines[0].endswith("(LOGLEVEL=DEBUG shows the traceback)")
    assert "s3cr3t-value" not in lines[0]
