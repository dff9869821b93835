"""The template sandbox: bounded operators, read-only calls and a time budget over simpleeval.

Integers stay within ``MAX_INT_BITS``, strings and lists built by ``+``/``*`` within
``MAX_LENGTH`` items, and one evaluation within ``TIME_BUDGET`` seconds; a template may call only
``FUNCTIONS`` and ``READ_ONLY_METHODS``. What is checked from the text alone lives in ``templates``.
"""

from __future__ import annotations

import ast
import operator as op
import time
import types
from collections.abc import Callable, Mapping
from typing import Any

import simpleeval

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "int": int,
    "str": str,
    "bool": bool,
    "float": float,
}
READ_ONLY_METHODS = frozenset(
    {
        "get",
        "keys",
        "values",
        "items",
        "count",
        "index",
        "find",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "isdigit",
    }
)
"""The only methods a template may call: none of them changes the object it is called on."""

MAX_INT_BITS = 4096
"""Largest integer a template may compute (about 1,233 decimal digits)."""
MAX_LENGTH = 100_000
"""Most characters or items a string, list or tuple built by ``+`` or ``*`` may hold."""
TIME_BUDGET = 1.0
"""Seconds one evaluation may take."""

_SCALARS = (str, int, float, bool, type(None))


class TemplateError(ValueError):
    """A template that does not parse, uses something outside the sandbox or breaks a bound."""


def refuse(what: str, why: str) -> TemplateError:
    """The error for something a template will not evaluate, and why."""
    return TemplateError(f"will not evaluate {what}: {why}")


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def check_int(value: Any, what: str) -> None:
    """Refuse an integer larger than MAX_INT_BITS."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise refuse(what, f"the result is larger than {MAX_INT_BITS} bits")


def _power(a: Any, b: Any) -> Any:
    big = isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1
    if big and (b > MAX_INT_BITS or (abs(a).bit_length() - 1) * b > MAX_INT_BITS):
        raise refuse(f"a power with exponent {b}", f"the result is over {MAX_INT_BITS} bits")
    return a**b


def _multiply(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        size = _length(seq)
        if size is not None and isinstance(times, int):
            if isinstance(seq, list | tuple) and times > 1:
                raise refuse("a repeated list or tuple", "templates may only repeat strings")
            if size * times > MAX_LENGTH:
                raise refuse(
                    f"a string repeated {times} times", f"at most {MAX_LENGTH:,} characters"
                )
    ints = isinstance(a, int) and isinstance(b, int)
    if ints and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
        raise refuse("a product", f"the result is over {MAX_INT_BITS} bits")
    return a * b


def _add(a: Any, b: Any) -> Any:
    left, right = _length(a), _length(b)
    if left is not None and right is not None and left + right > MAX_LENGTH:
        raise refuse("a sum of sequences", f"the result would hold over {MAX_LENGTH:,} items")
    return a + b


def _lshift(a: Any, b: Any) -> Any:
    ints = isinstance(a, int) and isinstance(b, int) and a and b > 0
    if ints and abs(a).bit_length() + b > MAX_INT_BITS:
        raise refuse(f"a shift by {b}", f"the result is over {MAX_INT_BITS} bits")
    return a << b


def _modulo(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        raise refuse("'%' string formatting", "it is not available in templates")
    return a % b


def _contains(container: Any, item: Any) -> bool:
    return op.contains(container, item)


_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _add,
    ast.Sub: op.sub,
    ast.Mult: _multiply,
    ast.Div: op.truediv,
    ast.FloorDiv: op.floordiv,
    ast.Mod: _modulo,
    ast.Pow: _power,
    ast.LShift: _lshift,
    ast.RShift: op.rshift,
    ast.BitOr: op.or_,
    ast.BitAnd: op.and_,
    ast.BitXor: op.xor,
    ast.Eq: op.eq,
    ast.NotEq: op.ne,
    ast.Lt: op.lt,
    ast.LtE: op.le,
    ast.Gt: op.gt,
    ast.GtE: op.ge,
    ast.In: lambda x, y: _contains(y, x),
    ast.NotIn: lambda x, y: not _contains(y, x),
    ast.Is: op.is_,
    ast.IsNot: op.is_not,
    ast.Not: op.not_,
    ast.USub: op.neg,
    ast.UAdd: op.pos,
    ast.Invert: op.invert,
}


def _scalar_text(value: Any) -> str:
    """``str()`` of a number, string or None (a container could be any size: refused)."""
    if not isinstance(value, _SCALARS):
        raise refuse(f"str() of a {type(value).__name__}", "str() takes a number or a string")
    return str(value)


class _Evaluator(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
    """simpleeval with bounded operators, read-only calls and a time budget."""

    def __init__(self, names: Mapping[str, Any], deadline: float) -> None:
        super().__init__(operators=dict(_OPERATORS), functions={}, names=dict(names))
        self.functions = {**FUNCTIONS, "str": _scalar_text}  # no list/dict/tuple/set
        self.deadline = deadline

    def _eval(self, node: ast.AST) -> Any:
        if time.monotonic() > self.deadline:
            msg = f"the template ran longer than {TIME_BUDGET:g} s (the limit per evaluation)"
            raise TemplateError(msg)
        result = super()._eval(node)
        if type(result) is int:
            check_int(result, "an integer")
        return result

    def _check_disallowed_items(self, item: Any) -> None:
        # The names are parsed JSON, header strings and an int, and every value a template
        # builds is checked at its own node: no need to walk whole pages on every access.
        if isinstance(item, types.ModuleType) or (
            callable(item) and item in simpleeval.DISALLOW_FUNCTIONS
        ):
            raise simpleeval.FeatureNotAvailable("this value is not available in templates")

    def _eval_call(self, node: ast.Call) -> Any:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr not in READ_ONLY_METHODS:
            raise TemplateError(call_problem(func.attr))
        if not isinstance(func, ast.Attribute | ast.Name):
            raise TemplateError(call_problem(None))
        return super()._eval_call(node)

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        return _scalar_text(self._eval(node.value))


def call_problem(method: str | None) -> str:
    """Why a call is refused, naming what a template may call."""
    allowed = ", ".join(sorted(READ_ONLY_METHODS))
    functions = ", ".join(FUNCTIONS)
    what = f"calling .{method}() is not allowed" if method else "only named calls are allowed"
    return f"{what}: templates are read-only and may call {functions} and the methods {allowed}"


def evaluate(node: ast.expr, text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate a checked expression against ``names`` in the sandbox, within TIME_BUDGET."""
    evaluator = _Evaluator(names, time.monotonic() + TIME_BUDGET)
    try:
        return evaluator.eval(text, previously_parsed=node)
    except (simpleeval.InvalidExpression, simpleeval.FeatureNotAvailable) as exc:
        raise TemplateError(str(exc)) from None
