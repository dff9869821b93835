"""Reading an OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML) from a file or a URL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import requests
import yaml

from tap_restgeneric.tools.common import ToolError

TIMEOUT = 60.0


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
        try:
            response = requests.get(location, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ToolError(f"cannot fetch {location}: {exc}") from None
        if response.status_code != 200:
            raise ToolError(f"cannot fetch {location}: HTTP {response.status_code}")
        return response.text
    is_uri = location.startswith("file:")
    path = Path(url2pathname(urlsplit(location).path) if is_uri else location)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read {location}: {exc}") from None


def parse(text: str, name: str) -> Any:
    """JSON when it parses as JSON (fast, also for 10 MB documents), else YAML."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise ToolError(f"{name} is neither JSON nor YAML: {exc}") from None


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
