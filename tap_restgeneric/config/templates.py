"""Sandboxed ``{{ expression }}`` templates (the seeds' stop_condition), parsed once at start-up.

A template is read-only and bounded. It may call only ``len``/``int``/``str``/``bool``/``float``
and the read-only methods in ``READ_ONLY_METHODS`` (so nothing it does can change the response,
headers or records the paginator reads next); integers stay within ``MAX_INT_BITS``, strings and
lists built by ``+``/``*`` within ``MAX_LENGTH`` items, the expression within ``MAX_NODES``
parts nested at most ``MAX_DEPTH`` deep, and one evaluation within ``TIME_BUDGET`` seconds.
Whatever can be decided from the text alone (an unknown name, a dunder, a call to any other
method, a constant part that breaks a bound) is a config error at start-up; the rest fails the
stream when the template is evaluated.
"""

from __future__ import annotations

import ast
import operator as op
import time
import types
from collections.abc import Callable, Mapping
from typing import Any

import simpleeval

TEMPLATE_NAMES = ("response", "headers", "records", "page")
_BLOCKED_ATTRIBUTES = frozenset(simpleeval.DISALLOW_METHODS)
"""Methods simpleeval refuses only when called (``'{0.__class__}'.format(x)``): refused up front."""
_BLOCKED_PREFIXES = ("_", *simpleeval.DISALLOW_PREFIXES)
_FUNCTIONS: dict[str, Callable[..., Any]] = {
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
MAX_NODES = 1000
"""Most syntax-tree parts in one template."""
MAX_DEPTH = 100
"""Deepest nesting of parts in one template."""
TIME_BUDGET = 1.0
"""Seconds one evaluation may take."""

_SCALARS = (str, int, float, bool, type(None))
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


class TemplateError(ValueError):
    """A template that does not parse, uses something outside the sandbox or breaks a bound."""


def _strip_braces(text: str) -> str:
    body = text.strip()
    if body.startswith("{{") and body.endswith("}}"):
        body = body[2:-2]
    return body.strip()


def _refuse(what: str, why: str) -> TemplateError:
    return TemplateError(f"will not evaluate {what}: {why}")


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _check_int(value: Any, what: str) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _refuse(what, f"the result is larger than {MAX_INT_BITS} bits")


def _power(a: Any, b: Any) -> Any:
    big = isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1
    if big and (b > MAX_INT_BITS or (abs(a).bit_length() - 1) * b > MAX_INT_BITS):
        raise _refuse(f"a power with exponent {b}", f"the result is over {MAX_INT_BITS} bits")
    return a**b


def _multiply(a: Any, b: Any) -> Any:
    for seq, times in ((a, b), (b, a)):
        size = _length(seq)
        if size is not None and isinstance(times, int):
            if isinstance(seq, list | tuple) and times > 1:
                raise _refuse("a repeated list or tuple", "templates may only repeat strings")
            if size * times > MAX_LENGTH:
                raise _refuse(
                    f"a string repeated {times} times", f"at most {MAX_LENGTH:,} characters"
                )
    ints = isinstance(a, int) and isinstance(b, int)
    if ints and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
        raise _refuse("a product", f"the result is over {MAX_INT_BITS} bits")
    return a * b


def _add(a: Any, b: Any) -> Any:
    left, right = _length(a), _length(b)
    if left is not None and right is not None and left + right > MAX_LENGTH:
        raise _refuse("a sum of sequences", f"the result would hold over {MAX_LENGTH:,} items")
    return a + b


def _lshift(a: Any, b: Any) -> Any:
    ints = isinstance(a, int) and isinstance(b, int) and a and b > 0
    if ints and abs(a).bit_length() + b > MAX_INT_BITS:
        raise _refuse(f"a shift by {b}", f"the result is over {MAX_INT_BITS} bits")
    return a << b


def _modulo(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        raise _refuse("'%' string formatting", "it is not available in templates")
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
        raise _refuse(f"str() of a {type(value).__name__}", "str() takes a number or a string")
    return str(value)


class _Evaluator(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
    """simpleeval with bounded operators, read-only calls and a time budget."""

    def __init__(self, names: Mapping[str, Any], deadline: float) -> None:
        super().__init__(operators=dict(_OPERATORS), functions={}, names=dict(names))
        self.functions = {**_FUNCTIONS, "str": _scalar_text}  # no list/dict/tuple/set
        self.deadline = deadline

    def _eval(self, node: ast.AST) -> Any:
        if time.monotonic() > self.deadline:
            msg = f"the template ran longer than {TIME_BUDGET:g} s (the limit per evaluation)"
            raise TemplateError(msg)
        result = super()._eval(node)
        if type(result) is int:
            _check_int(result, "an integer")
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
            raise TemplateError(_call_problem(func.attr))
        if not isinstance(func, ast.Attribute | ast.Name):
            raise TemplateError(_call_problem(None))
        return super()._eval_call(node)

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        return _scalar_text(self._eval(node.value))


def _call_problem(method: str | None) -> str:
    allowed = ", ".join(sorted(READ_ONLY_METHODS))
    functions = ", ".join(_FUNCTIONS)
    what = f"calling .{method}() is not allowed" if method else "only named calls are allowed"
    return f"{what}: templates are read-only and may call {functions} and the methods {allowed}"


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
    allowed = set(TEMPLATE_NAMES) | set(_FUNCTIONS) | {"True", "False", "None"}
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
                    raise TemplateError(_call_problem(node.func.attr))
            elif not isinstance(node.func, ast.Name):
                raise TemplateError(_call_problem(None))
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            raise TemplateError("format specifications in f-strings are not allowed")
        if isinstance(node, ast.Dict) and None in node.keys:
            raise TemplateError("'**' unpacking is not allowed")
        if isinstance(node, ast.Constant) and type(node.value) is int:
            _check_int(node.value, "a constant")
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            raise _refuse("'%' string formatting", "it is not available in templates")


def _is_constant(node: ast.AST) -> bool:
    return not any(
        isinstance(part, ast.Name) and part.id in TEMPLATE_NAMES for part in ast.walk(node)
    )


def _fold_constants(node: ast.expr) -> None:
    """Evaluate each part that does not read the page: a bound it breaks is a config error."""
    if _is_constant(node):
        try:
            _evaluate(node, "", {})
        except TemplateError:
            raise
        except Exception:  # ZeroDivisionError and the like: only the bounds matter here
            return
        return
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            _fold_constants(child)


def _evaluate(node: ast.expr, text: str, names: Mapping[str, Any]) -> Any:
    evaluator = _Evaluator(names, time.monotonic() + TIME_BUDGET)
    try:
        return evaluator.eval(text, previously_parsed=node)
    except (simpleeval.InvalidExpression, simpleeval.FeatureNotAvailable) as exc:
        raise TemplateError(str(exc)) from None


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
        return _evaluate(self._tree.body, self.text, names)
