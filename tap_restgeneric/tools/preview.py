"""``restgeneric preview``: the first pages of one resource, explained, as plain text."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from typing import Any

from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.cli.files import read_json_file
from tap_restgeneric.errors import StreamRequestError, did_you_mean
from tap_restgeneric.sync.streams import RestGenericStream
from tap_restgeneric.tap import TapRestGeneric
from tap_restgeneric.tools.common import ConfigFiles, ToolError, out, quiet_logs
from tap_restgeneric.tools.explain import Preview, Print


def add_parser(commands: Any) -> None:
    """Register the ``preview`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "preview",
        help="request the first pages of a resource and explain them",
        description=(
            "Send the first requests of one resource and print, redacted: each request, its "
            "status, the records, why pagination continues or stops, what 'auto' detected, the "
            "inferred schema and the state a run would store. Plain text on stdout; with "
            "--singer the Singer messages go to stdout and the text to stderr."
        ),
    )
    parser.add_argument("config", nargs="+", help="config file(s), JSON or YAML")
    parser.add_argument("--resource", help="resource (or stream) name; default: the first")
    parser.add_argument("--pages", type=int, default=2, help="pages to request (default 2)")
    parser.add_argument("--records", type=int, default=3, help="records shown per page")
    parser.add_argument("--state", help="a Singer state file to start from (its bookmark)")
    parser.add_argument("--singer", action="store_true", help="also write Singer messages")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build the tap in-process, preview one resource; exit 1 on a config or request error."""
    if args.pages < 1:
        raise ToolError("--pages must be 1 or more")
    files = ConfigFiles.read(args.config)
    state = _read_state(args.state) if args.state else {}
    text: Print = (lambda line: out(line, sys.stderr)) if args.singer else out
    with quiet_logs(logging.ERROR):
        try:
            tap = TapRestGeneric(config=files.config, parse_env_config=False)
        except ConfigValidationError as exc:
            raise ToolError(*(files.locate(line) for line in exc.errors)) from None
    with quiet_logs():
        names = _config_names(files.config)
        stream = _pick(tap, args.resource or next(iter(names), ""))
        preview = Preview(stream, text, args.records)
        try:
            preview.show(tap, state, args.pages, names.get(stream.resource.name))
        except StreamRequestError as exc:
            text(f"error: {exc}")
            return 1
    if args.singer:
        preview.write_singer(out)
    return 0


def _read_state(name: str) -> dict[str, Any]:
    try:
        state = read_json_file(name, "state")
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    return state if isinstance(state, dict) else {}


def _config_names(config: Mapping[str, Any]) -> dict[str, int]:
    """Resource name → index in config['resources'], in config order."""
    found: dict[str, int] = {}
    for i, item in enumerate(config.get("resources") or []):
        name = (
            item if isinstance(item, str) else item.get("name") if isinstance(item, dict) else None
        )
        if isinstance(name, str):
            found.setdefault(name, i)
    return found


def _pick(tap: TapRestGeneric, name: str) -> RestGenericStream:
    by_name = {r.name: r.stream_name for r in tap.api.resources}
    by_name |= {r.stream_name: r.stream_name for r in tap.api.resources}
    if name not in by_name:
        valid = sorted(r.name for r in tap.api.resources)
        raise ToolError(
            f"unknown resource {name!r}{did_you_mean(name, valid)}; expected one of "
            + ", ".join(repr(v) for v in valid)
        )
    stream = tap.streams[by_name[name]]
    assert isinstance(stream, RestGenericStream)
    return stream
