"""``restgeneric import-dlt``: a dlt ``rest_api_source({...})`` snippet → a JSON config."""

from __future__ import annotations

import argparse
import ast
import json
import math
from pathlib import Path as FilePath
from typing import Any

from tap_restgeneric.cli.files import MAX_CONFIG_BYTES, read_text
from tap_restgeneric.config.raw import RestApiConfig
from tap_restgeneric.config.secrets import is_reference
from tap_restgeneric.errors import Path, format_path
from tap_restgeneric.redaction import SENSITIVE_KEYS
from tap_restgeneric.tools.common import ToolError, err
from tap_restgeneric.tools.snippet import code_block, config_literal, replace_secrets
from tap_restgeneric.tools.validate import check_config

PLACEHOLDER = "restgeneric-import-placeholder"
LITERAL_NODES = (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Constant)


def convert(text: str, *, is_python: bool) -> tuple[RestApiConfig, list[str]]:
    """Parse (never run) the snippet; return the JSON config and the secret names it uses.

    The config is typed as what it claims to be; ``validate`` (run by ``import-dlt``) checks it.
    """
    source, first_line = code_block(text, is_python)
    literal, offset = config_literal(source)
    code, names = replace_secrets(literal)
    line = first_line + offset
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        where = line + (exc.lineno or 1) - 1
        msg = f"line {where}: the rest_api_source dict is not valid Python: {exc.msg}"
        raise ToolError(msg) from None
    bad = _first_non_literal(tree)
    if bad is not None:
        shown = ast.get_source_segment(code, bad) or type(bad).__name__
        raise ToolError(
            f"line {line + bad.lineno - 1}: {shown} is not a literal; import-dlt never runs "
            'code: write the value itself, or {"secret": "NAME"} for a credential'
        )
    value = ast.literal_eval(tree)
    if not isinstance(value, dict):
        raise ToolError("rest_api_source(...) is not called with a dict")
    return _jsonable(value, ()), names


def _first_non_literal(tree: ast.AST) -> ast.expr | None:
    """The outermost expression that is not a literal (names, calls, operators, f-strings)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr) or isinstance(node, LITERAL_NODES):
            continue
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
        ):
            continue
        return node
    return None


def _jsonable(value: Any, path: Path) -> Any:
    """Tuples become lists; anything JSON cannot hold (sets, bytes, NaN, int keys) is refused."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ToolError(f"key {key!r} at {format_path(path)} is not a string")
        return {k: _jsonable(v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError(f"{value!r} at {format_path(path)} cannot be written in JSON")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    kind = type(value).__name__
    raise ToolError(f"a {kind} at {format_path(path)} cannot be written in JSON")


def literal_credentials(node: Any, path: Path = ()) -> list[Path]:
    """Paths of credentials written as literal text instead of secret references."""
    found: list[Path] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).lower() in SENSITIVE_KEYS and isinstance(value, str) and value:
                found.append((*path, key))
            elif not is_reference(value):
                found += literal_credentials(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += literal_credentials(value, (*path, i))
    return found


def secrets_line(names: list[str]) -> str:
    """``secrets to set: x, y (in the 'secrets' setting or as environment variables X, Y)``."""
    if not names:
        return "secrets to set: none"
    variables = "environment variables" if len(names) > 1 else "environment variable"
    upper = ", ".join(n.upper() for n in names)
    return (
        f"secrets to set: {', '.join(names)} (in the 'secrets' setting or as {variables} {upper})"
    )


def add_parser(commands: Any) -> None:
    """Register the ``import-dlt`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "import-dlt",
        help="convert a dlt rest_api_source snippet (.py or Markdown) into a JSON config",
        description=(
            "Read the rest_api_source({...}) dict from a Python file, or from the first "
            "```python block of a Markdown/text document, without running it; write the "
            'equivalent JSON config with dlt.secrets["x"] as {"secret": "x"}.'
        ),
    )
    parser.add_argument("file", help="a .py file, or a Markdown/text document")
    parser.add_argument("-o", "--output", help="write the JSON config here (default: stdout)")
    parser.add_argument("--base-url", help="replace client.base_url (e.g. a test server)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Convert, write the JSON, and list the secrets to set (and any problems) on stderr."""
    file = FilePath(args.file)
    try:
        text = read_text(file, args.file, MAX_CONFIG_BYTES, "dlt", "snippet")
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    config, names = convert(text, is_python=file.suffix.lower() == ".py")
    if args.base_url:
        client = config.setdefault("client", {"base_url": args.base_url})
        if not isinstance(client, dict):
            raise ToolError("'client' in the snippet is not a dict: cannot set --base-url")
        client["base_url"] = args.base_url
    rendered = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        FilePath(args.output).write_text(rendered, encoding="utf-8")
        err(f"wrote {args.output}")
    else:
        print(rendered, end="")
    err(secrets_line(names))
    for path in literal_credentials(config):
        err(f'warning: a literal credential at {format_path(path)}; prefer {{"secret": "NAME"}}')
    checked = check_config({**config, "secrets": dict.fromkeys(names, PLACEHOLDER)})
    for line in checked.errors:
        err(f"error: {line}")
    for line in checked.warnings:
        err(f"warning: {line}")
    return 0
