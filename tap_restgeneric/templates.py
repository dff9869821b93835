"""Sandboxed ``{{ expression }}`` templates (the seeds' stop_condition), parsed once at start-up."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import simpleeval

TEMPLATE_NAMES = ("response", "headers", "records", "page")
_BLOCKED_ATTRIBUTES = frozenset(simpleeval.DISALLOW_METHODS)
"""Methods simpleeval refuses only when called (``'{0.__class__}'.format(x)``): refused up front."""
_BLOCKED_PREFIXES = ("_", *simpleeval.DISALLOW_PREFIXES)
_FUNCTIONS = {"len": len, "int": int, "str": str, "bool": bool, "float": float}


class TemplateError(ValueError):
    """A template that does not parse or uses something outside the sandbox."""


def _strip_braces(text: str) -> str:
    body = text.strip()
    if body.startswith("{{") and body.endswith("}}"):
        body = body[2:-2]
    return body.strip()


def _check_tree(tree: ast.AST) -> None:
    allowed = set(TEMPLATE_NAMES) | set(_FUNCTIONS) | {"True", "False", "None"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in allowed:
            names = ", ".join(TEMPLATE_NAMES)
            msg = f"unknown name {node.id!r} (the template may use {names})"
            raise TemplateError(msg)
        if isinstance(node, ast.Attribute) and (
            node.attr.startswith(_BLOCKED_PREFIXES) or node.attr in _BLOCKED_ATTRIBUTES
        ):
            msg = f"attribute {node.attr!r} is not allowed"
            raise TemplateError(msg)
        if isinstance(node, ast.Lambda | ast.NamedExpr | ast.comprehension):
            msg = f"{type(node).__name__} is not allowed"
            raise TemplateError(msg)


class Template:
    """A boolean expression over one page, evaluated with simpleeval (no imports, no dunders)."""

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
        self._tree = tree
        self._evaluator = simpleeval.EvalWithCompoundTypes(functions=_FUNCTIONS)

    def evaluate(self, names: Mapping[str, Any]) -> Any:
        """Evaluate against ``names``; sandbox violations raise TemplateError."""
        self._evaluator.names = dict(names)
        try:
            return self._evaluator.eval(self.text, previously_parsed=self._tree.body)
        except (simpleeval.InvalidExpression, simpleeval.FeatureNotAvailable) as exc:
            raise TemplateError(str(exc)) from None
