"""YAML config text composed safely: JSON's data model, with nesting, nodes and aliases bounded."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tap_restgeneric.config.fields import MAX_DEPTH, MAX_NODES

_YAML_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "seq", "map")
)
"""The YAML types a config may hold: JSON's (no timestamps, sets, binary or ordered maps)."""


class LimitError(yaml.MarkedYAMLError):
    """A YAML config breaks a limit (nesting, aliases); the message names the limit."""

    def __init__(self, problem: str, expected: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.expected = expected


class ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader with JSON's data model and hard limits.

    Nesting and nodes are counted while composing, before anything is built: the composer
    recurses, so nesting is refused past MAX_DEPTH; an alias counts as every node it expands
    to (a 400-byte "billion laughs" would be 10⁹ nodes), and one that refers to a node that
    contains it is refused. Keys are the text written (``on:`` is the key "on", not true);
    only JSON's types are built (a timestamp stays a string).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._levels = 0
        self._open: set[str] = set()
        self._nodes = 0
        self._expanded: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node within the nesting and alias limits."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise LimitError(
                    f"the alias *{event.anchor} refers to a node that contains it",
                    "aliases to nodes that do not contain them (no recursive aliases)",
                    event.start_mark,
                )
            node = super().compose_node(parent, index)
            if node is None:
                return None
            nodes, levels = self._expand(node)
            self._count(nodes, event.start_mark, f" (*{event.anchor} expands to {nodes:,})")
            if self._levels + levels > MAX_DEPTH:
                raise _too_deep(event.start_mark)
            return node
        self._count(1, event.start_mark)
        container = isinstance(event, yaml.CollectionStartEvent)
        if container and self._levels >= MAX_DEPTH:
            raise _too_deep(event.start_mark)
        anchor = event.anchor if container else None
        self._levels += container
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._levels -= container
            if anchor is not None:
                self._open.discard(anchor)

    def _count(self, nodes: int, mark: Any, how: str = "") -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise LimitError(
                f"more than {MAX_NODES:,} nodes{how}",
                f"at most {MAX_NODES:,} nodes (objects, lists, keys and values, aliases expanded)",
                mark,
            )

    def _expand(self, root: Node) -> tuple[int, int]:
        """(nodes, levels of containers) of a composed node with its aliases expanded."""
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if id(node) in self._expanded:
                continue
            kids = _node_children(node)
            if not children_done:
                stack.append((node, True))
                stack.extend((kid, False) for kid in kids if id(kid) not in self._expanded)
                continue
            sizes = [self._expanded[id(kid)] for kid in kids]
            nodes = 1 + sum(n for n, _ in sizes)
            deepest = max((levels for _, levels in sizes), default=0)
            levels = 0 if isinstance(node, ScalarNode) else 1 + deepest
            self._expanded[id(node)] = (min(nodes, MAX_NODES + 1), levels)
        return self._expanded[id(root)]

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        """A mapping whose keys are the scalars as written (JSON keys are strings)."""
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found a list or an object as a key (keys are strings)",
                    key_node.start_mark,
                )
            mapping[str(key_node.value)] = self.construct_object(value_node, deep=deep)
        return mapping


def _refuse_tag(loader: yaml.SafeLoader, node: Node) -> Any:
    raise ConstructorError(
        None,
        None,
        f"the tag {node.tag!r} is not allowed in a config (only JSON's types: null, true/false, "
        "numbers, strings, lists and objects)",
        node.start_mark,
    )


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag in _YAML_TAGS or tag.endswith(":merge")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.yaml_constructors = {
    tag: construct
    for tag, construct in yaml.SafeLoader.yaml_constructors.items()
    if tag in _YAML_TAGS
}
ConfigLoader.add_constructor(None, _refuse_tag)


def _node_children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _too_deep(mark: Any) -> LimitError:
    return LimitError(
        f"nested more than {MAX_DEPTH} levels deep",
        f"at most {MAX_DEPTH} levels of objects and lists",
        mark,
    )


def at_mark(mark: Any) -> str:
    """``line L column C`` of a YAML mark ("" without one)."""
    return f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""


def yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """One line for a YAML error: the problem (or its context) and where."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return f"character #x{exc.character:04x} is not allowed at line {line} column {column}"
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [
            f"{text} at {at_mark(mark)}" if mark is not None else text
            for text, mark in ((exc.context, exc.context_mark), (exc.problem, exc.problem_mark))
            if text
        ]
        return " ".join(", ".join(parts or [type(exc).__name__]).split())
    return " ".join(str(exc).split())
