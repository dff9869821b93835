"""``restgeneric validate``: every config error and warning, without any network call."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tap_restgeneric.config.resolve import REQUIRED_SETTINGS
from tap_restgeneric.config.spec import RestApiSpec
from tap_restgeneric.tap import TapRestGeneric
from tap_restgeneric.tools.common import ConfigFiles, ToolError, out, quiet_logs
from tap_restgeneric.tools.hints import config_warnings

_SDK_REQUIRED = "'{}' is a required property"


@dataclass
class Checked:
    """The outcome of checking a config: error lines, warning lines, the spec when valid."""

    errors: list[str]
    warnings: list[str]
    spec: RestApiSpec | None


def check_config(config: Mapping[str, Any]) -> Checked:
    """Check a config exactly as the tap does (SDK settings + resolution), plus warnings."""
    with quiet_logs(logging.ERROR):
        tap = TapRestGeneric(
            config=dict(config), parse_env_config=False, validate_config=False, setup_mapper=False
        )
        errors = tap.validate_config(raise_errors=False)
    spec: RestApiSpec | None = None if errors else tap.api
    # the SDK's "'client' is a required property" repeats the tap's own line for it
    errors = [e for e in errors if not any(_SDK_REQUIRED.format(k) == e for k in REQUIRED_SETTINGS)]
    return Checked(errors, config_warnings(config, spec), spec)


def add_parser(commands: Any) -> None:
    """Register the ``validate`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "validate",
        help="check a config without any network call",
        description=(
            "Report every config error (with file:line:column) and every setting that has no "
            "effect, without sending any request. Exit status 0 when valid, 1 otherwise."
        ),
    )
    parser.add_argument(
        "config", nargs="+", help="config file(s), JSON or YAML, merged in order as --config does"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print ``OK: …`` and warnings (exit 0), or every error line (exit 1)."""
    try:
        files = ConfigFiles.read(args.config)
    except ToolError as exc:
        for line in exc.lines:
            out(line)
        return 1
    checked = check_config(files.config)
    if checked.spec is not None:
        resources = checked.spec.resources
        streams = sum(1 for r in resources if r.selected)
        out(f"OK: {len(resources)} resources, {streams} streams")
    for line in checked.errors:
        out(files.locate(line))
    for line in checked.warnings:
        out(files.locate(f"warning: {line}"))
    return 1 if checked.errors else 0
