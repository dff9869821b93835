"""Reading an OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML) from a file or a URL."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import requests
import urllib3
import yaml

from tap_restgeneric.http.deadline import mount_deadlines
from tap_restgeneric.tools.common import ToolError

TIMEOUT = 60.0
"""Seconds a document may take to arrive over HTTP, all of it (each read: half of that)."""
MAX_BYTES = 128 << 20
"""The largest document read: GitHub's dereferenced description is 78 MB."""
MAX_DEPTH = 200
"""Levels of objects and lists a document may nest (real ones: about 30)."""
MAX_NODES = 10_000_000
"""Values a document may hold with YAML aliases expanded (GitHub's largest: 2.4 million)."""


@dataclass(frozen=True)
class Document:
    """A parsed document, the URI its relative ``$ref``s are resolved against, and its version."""

    content: dict[str, Any]
    uri: str
    version: str  # "2.0", "3.0" or "3.1"

    @property
    def swagger(self) -> bool:
        """True for Swagger 2.0."""
        return self.version == "2.0"


def is_url(spec: str) -> bool:
    """An http(s) URL rather than a file name."""
    return urlsplit(spec).scheme in ("http", "https")


def read_text(location: str) -> str:
    """The text at a file path, a ``file:`` URI or an http(s) URL; ToolError when unreadable."""
    if is_url(location):
        return _decode(_fetch(location), location)
    is_uri = location.startswith("file:")
    path = Path(url2pathname(urlsplit(location).path) if is_uri else location)
    try:
        with path.open("rb") as handle:  # not by its size: /dev/zero has none
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ToolError(f"cannot read {location}: {exc}") from None
    if len(data) > MAX_BYTES:
        raise ToolError(f"cannot read {location}: {_too_large()}")
    return _decode(data, location)


def _fetch(url: str) -> bytes:
    """The body at ``url``, within TIMEOUT seconds and MAX_BYTES; ToolError otherwise."""
    deadline = time.monotonic() + TIMEOUT
    body = bytearray()
    try:
        with requests.Session() as session:
            mount_deadlines(session)  # a response head that drips in is cut off too
            with session.get(url, timeout=TIMEOUT / 2, stream=True) as response:
                if response.status_code != 200:
                    raise ToolError(f"cannot fetch {url}: HTTP {response.status_code}")
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > MAX_BYTES:
                    raise ToolError(f"cannot fetch {url}: {_too_large()}")
                while chunk := _read(response, deadline - time.monotonic(), url):
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise ToolError(f"cannot fetch {url}: {_too_large()}")
    except requests.RequestException as exc:
        raise ToolError(f"cannot fetch {url}: {exc}") from None
    return bytes(body)


def _read(response: requests.Response, left: float, url: str) -> bytes:
    """The next bytes of the body as they come (b"" at its end), waiting at most ``left``."""
    late = f"cannot fetch {url}: not complete within {TIMEOUT:g} s"
    if left <= 0:
        raise ToolError(late)
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(left)
    try:
        chunk: bytes = response.raw.read1(1 << 16, decode_content=True)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
            raise ToolError(late) from None
        raise ToolError(f"cannot fetch {url}: {exc}") from None
    return chunk


def _too_large() -> str:
    return f"larger than {MAX_BYTES:,} bytes, the most a document may have"


def _decode(data: bytes, location: str) -> str:
    """UTF-8 text (a byte order mark dropped), as JSON and YAML documents are written."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ToolError(f"cannot read {location}: not UTF-8 text ({exc.reason})") from None


def parse(text: str, name: str) -> Any:
    """JSON when it parses as JSON (fast, also for 10 MB documents), else YAML; either within
    MAX_DEPTH levels and MAX_NODES values (aliases expanded)."""
    try:
        content = json.loads(text)
    except RecursionError:
        raise ToolError(_too_deep(name)) from None
    except ValueError:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            content = yaml.load(text, Loader=loader)  # a safe loader; aliases shared, not copied
        except RecursionError:
            raise ToolError(_too_deep(name)) from None
        except yaml.YAMLError as exc:
            if "maximum nesting depth" in str(exc):  # libyaml's own limit (1,000 levels)
                raise ToolError(_too_deep(name)) from None
            problem = " ".join(str(exc).split())
            raise ToolError(f"{name} is neither JSON nor YAML: {problem}") from None
    _check_size(content, name)
    return content


def _too_deep(name: str) -> str:
    return f"{name} nests objects and lists more than {MAX_DEPTH} levels deep"


def _check_size(content: Any, name: str) -> None:
    """ToolError when ``content`` nests too deep, holds too many values counting each alias
    as a copy (a "billion laughs" document), or contains itself (a recursive alias).

    Iterative, each shared object measured once: linear in the objects actually built.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (values, levels)
    open_ids: set[int] = set()
    stack: list[tuple[Any, bool]] = [(content, False)]
    while stack:
        value, children_done = stack.pop()
        if not isinstance(value, dict | list) or (not children_done and id(value) in measured):
            continue
        children = list(value.values()) if isinstance(value, dict) else value
        if not children_done:
            if id(value) in open_ids:
                raise ToolError(f"{name} contains itself (a recursive YAML alias)")
            open_ids.add(id(value))
            stack.append((value, True))
            stack.extend((child, False) for child in children)
            continue
        open_ids.discard(id(value))
        values, levels = 1 + len(children), 1
        for child in children:
            if isinstance(child, dict | list):
                child_values, child_levels = measured[id(child)]
                values, levels = values + child_values, max(levels, child_levels + 1)
        if levels > MAX_DEPTH:
            raise ToolError(_too_deep(name))
        if values > MAX_NODES:
            raise ToolError(
                f"{name} holds more than {MAX_NODES:,} values with its YAML aliases expanded"
            )
        measured[id(value)] = (values, levels)


def version_of(content: dict[str, Any], name: str) -> str:
    """``2.0``, ``3.0`` or ``3.1`` from the ``swagger`` / ``openapi`` key; ToolError otherwise."""
    if str(content.get("swagger", "")).startswith("2"):
        return "2.0"
    declared = str(content.get("openapi", ""))
    for version in ("3.0", "3.1"):
        if declared.startswith(version):
            return version
    found = declared or content.get("swagger") or "no 'openapi' or 'swagger' key"
    raise ToolError(f"{name} is not an OpenAPI 3.0/3.1 or Swagger 2.0 document ({found})")


def load(spec: str) -> Document:
    """Read and parse ``spec`` (a file or an http(s) URL)."""
    content = parse(read_text(spec), spec)
    if not isinstance(content, dict):
        raise ToolError(f"{spec} does not hold a JSON/YAML object")
    uri = spec if is_url(spec) else Path(spec).resolve().as_uri()
    return Document(content, uri, version_of(content, spec))
