"""URL joining as dlt does it, and the same-origin check that guards credentials."""

from __future__ import annotations

from urllib.parse import urlsplit


def join_url(base_url: str, path: str) -> str:
    """Join like dlt: an absolute path wins; else base without trailing / + / + path."""
    if path.startswith(("http://", "https://")) or not base_url:
        return path
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def origin(url: str) -> tuple[str, str]:
    """The (scheme, host:port) of a URL, for credential scoping."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower().rsplit("@", 1)[-1]
