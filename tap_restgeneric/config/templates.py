"""Sandboxed ``{{ expression }}`` templates (the seeds' stop_condition), parsed once at start-up.

A template is read-only and bounded. It may call only ``len``/``int``/``str``/``bool``/``float``
and the read-only methods in ``READ_ONLY_METHODS`` (so nothing it does can change the response,
headers or records the paginator reads next); integers stay within ``MAX_INT_BITS``, strings and
lists built by ``+``/``*`` within ``MAX_LENGTH`` items, the expression within ``MAX_NODES``
parts nested at most ``MAX_DEPTH`` deep, and one evaluation within ``TIME_BUDGET`` seconds.
Whatever can be decided from the text alone (an unknown name, a dunder, a call to any other
method, a constant part that breaks a bound) is a config error at start-up; the rest fails the
stream when the template is evaluated. The checks from the text are here; the evaluator (the
bounded operators and calls, the time budget) is in ``template_sandbox``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import simpleeval

from tap_restgeneric.config.template_sandbox import (
    FUNCTIONS,
    MAX_INT_BITS,
    MAX_LENGTH,
    READ_ONLY_METHODS,
    TIME_BUDGET,
    TemplateError,
    call_problem,
    check_int,
    evaluate,
    refuse,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_LENGTH",
    "MAX_NODES",
    "READ_ONLY_METHODS",
    "TEMPLATE_NAMES",
    "TIME_BUDGET",
    "Template",
    "TemplateError",
]

TEMPLATE_NAMES = ("response", "headers", "records", "page")
_BLOCKED_ATTRIBUTES = frozenset(simpleeval.DISALLOW_METHODS)
"""Methods simpleeval refuses only when called (``'{0.__class__}'.format(x)``): refused up front."""
_BLOCKED_PREFIXES = ("_", *simpleeval.DISALLOW_PREFIXES)
MAX_NODES = 1000
"""Most syntax-tree parts in one template."""
MAX_DEPTH = 100
"""Deepest nesting of parts in one template."""
_ALLOWED_NODES = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.Invert,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.LShift,
    ast.RShift,
    ast.BitOr,
    ast.BitAnd,
    ast.BitXor,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.IfExp,
    ast.Call,
    ast.keyword,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.JoinedStr,
    ast.FormattedValue,
)
_NODE_NAMES = {
    "ListComp": "a comprehension",
    "SetComp": "a comprehension",
    "DictComp": "a comprehension",
    "GeneratorExp": "a generator expression",
    "comprehension": "a comprehension",
    "Lambda": "lambda",
    "NamedExpr": "':=' (assignment)",
    "Starred": "'*' unpacking",
    "MatMult": "'@'",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
}


def _strip_braces(text: str) -> str:
    body = text.strip()
    if body.startswith("{{") and body.endswith("}}"):
        body = body[2:-2]
    return body.strip()


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _check_tree(tree: ast.AST) -> None:
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        msg = f"the template has {len(nodes)} parts; at most {MAX_NODES}"
        raise TemplateError(msg)
    if _depth(tree) > MAX_DEPTH:
        msg = f"the template is nested more than {MAX_DEPTH} deep"
        raise TemplateError(msg)
    allowed = set(TEMPLATE_NAMES) | set(FUNCTIONS) | {"True", "False", "None"}
    for node in nodes:
        if isinstance(node, ast.Name) and node.id not in allowed:
            names = ", ".join(TEMPLATE_NAMES)
            msg = f"unknown name {node.id!r} (the template may use {names})"
            raise TemplateError(msg)
        if isinstance(node, ast.Attribute) and (
            node.attr.startswith(_BLOCKED_PREFIXES) or node.attr in _BLOCKED_ATTRIBUTES
        ):
            msg = f"attribute {node.attr!r} is not allowed"
            raise TemplateError(msg)
        kind = type(node).__name__
        if kind in _NODE_NAMES or not isinstance(node, _ALLOWED_NODES):
            msg = f"{_NODE_NAMES.get(kind, kind)} is not allowed"
            raise TemplateError(msg)
    for node in nodes:
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                if node.func.attr not in READ_ONLY_METHODS:
                    raise TemplateError(call_problem(node.func.attr))
            elif not isinstance(node.func, ast.Name):
                raise TemplateError(call_problem(None))
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            raise TemplateError("format specifications in f-strings are not allowed")
        if isinstance(node, ast.Dict) and None in node.keys:
            raise TemplateError("'**' unpacking is not allowed")
        if isinstance(node, ast.Constant) and type(node.value) is int:
            check_int(node.value, "a constant")
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            raise refuse("'%' string formatting", "it is not available in templates")


def _is_constant(node: ast.AST) -> bool:
    return not any(
        isinstance(part, ast.Name) and part.id in TEMPLATE_NAMES for part in ast.walk(node)
    )


def _fold_constants(node: ast.expr) -> None:
    """Evaluate each part that does not read the page: a bound it breaks is a config error."""
    if _is_constant(node):
        try:
            evaluate(node, "", {})
        except TemplateError:
            raise
        except Exception:  # ZeroDivisionError and the like: only the bounds matter here
            return
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            _fold_constants(child)


class Template:
    """A boolean expression over one page, evaluated read-only and bounded (see the module)."""

    def __init__(self, text: str) -> None:
        self.text = text
        source = _strip_braces(text)
        if not source:
            msg = "empty template"
            raise TemplateError(msg)
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            msg = f"template does not parse: {exc.msg}"
            raise TemplateError(msg) from None
        except (MemoryError, RecursionError, ValueError):  # nested too deeply, NUL bytes
            msg = "template does not parse: it is nested too deeply or holds invalid characters"
            raise TemplateError(msg) from None
        _check_tree(tree)
        _fold_constants(tree.body)
        self._tree = tree

    def evaluate(self, names: Mapping[str, Any]) -> Any:
        """Evaluate against ``names``; sandbox violations and broken bounds raise TemplateError."""
        return evaluate(self._tree.body, self.text, names)
