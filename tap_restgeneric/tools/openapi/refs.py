"""``$ref`` resolution with the ``referencing`` library: lazy, across files, cycle-safe."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urldefrag, urljoin

from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from tap_restgeneric.tools.common import ToolError
from tap_restgeneric.tools.openapi.loading import Document, is_url, parse, read_text

MAX_HOPS = 64
"""The longest chain of ``$ref``s to ``$ref``s followed."""


@cache
def _retrieve(uri: str) -> Resource[Any]:
    """Another document a ``$ref`` points to (a file beside the first one, or a URL)."""
    return Resource.opaque(parse(read_text(uri), uri))


@dataclass(frozen=True, eq=False)
class Node:
    """A value in some document, with the URI its own relative ``$ref``s are resolved against.

    ``ref`` is the absolute URI of the ``$ref`` that led here (``file:///x.json#/a/b``), or ""
    when the value was reached by walking its parent: it names the node for cycle checks.
    ``targets`` (shared by every node of one import) remembers where each ``$ref`` led.
    Nodes compare by identity: their values can be large.
    """

    value: Any
    base: str
    resolver: Any  # referencing.Resolver
    ref: str = ""
    targets: dict[str, Node] = field(default_factory=dict, repr=False)

    def child(self, value: Any) -> Node:
        """A value inside this one, ``$ref`` followed."""
        return Refs.follow(Node(value, self.base, self.resolver, "", self.targets))

    def get(self, key: str | int) -> Node | None:
        """The child at ``key`` (``$ref`` followed), or None when absent."""
        if isinstance(self.value, dict) and isinstance(key, str) and key in self.value:
            return self.child(self.value[key])
        if isinstance(self.value, list) and isinstance(key, int) and 0 <= key < len(self.value):
            return self.child(self.value[key])
        return None

    def items(self) -> list[tuple[str, Node]]:
        """A mapping's entries, each value followed through ``$ref``."""
        if not isinstance(self.value, dict):
            return []
        return [(str(k), self.child(v)) for k, v in self.value.items()]

    def elements(self) -> list[Node]:
        """A list's elements, each followed through ``$ref``."""
        if not isinstance(self.value, list):
            return []
        return [self.child(v) for v in self.value]

    def raw(self, key: str, default: Any = None) -> Any:
        """The plain value at ``key`` (no ``$ref`` followed): for scalars."""
        return self.value.get(key, default) if isinstance(self.value, dict) else default


class Refs:
    """The document's root node; every other document is read only when a ``$ref`` needs it."""

    def __init__(self, document: Document) -> None:
        root: Resource[Any] = Resource.opaque(document.content)
        registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]  # attrs
        registry = registry.with_resource(document.uri, root)
        resolver = registry.resolver(base_uri=document.uri)
        self.root = Node(document.content, document.uri, resolver)

    @staticmethod
    def follow(node: Node) -> Node:
        """The node a ``$ref`` (chain) points to, or the node itself; ToolError when broken."""
        seen: set[str] = set()
        while isinstance(node.value, dict) and isinstance(node.value.get("$ref"), str):
            ref = node.value["$ref"]
            target = urljoin(node.base, ref)
            if target in seen:
                raise ToolError(f"$ref {ref!r} at {node.base}: a cycle of references")
            if len(seen) >= MAX_HOPS:
                raise ToolError(
                    f"$ref {ref!r} at {node.base}: more than {MAX_HOPS} references to references"
                )
            if is_url(node.base) and not is_url(target):
                raise ToolError(
                    f"$ref {ref!r} in {node.base}: a document read over HTTP may not refer to "
                    "a local file"
                )
            seen.add(target)
            known = node.targets.get(target)
            if known is not None:
                node = known
                continue
            try:
                resolved = node.resolver.lookup(ref)
            except (Unresolvable, ToolError) as exc:
                raise ToolError(f"cannot resolve $ref {ref!r} (in {node.base}): {exc}") from None
            url = urldefrag(target).url
            found = Node(resolved.contents, url, resolved.resolver, target, node.targets)
            node.targets[target] = found
            node = found
        return node
