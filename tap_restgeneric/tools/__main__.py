"""The ``restgeneric`` command: subcommands to write and check tap-restgeneric configs."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from tap_restgeneric.cli.failures import one_line
from tap_restgeneric.sync.parallel import Halted
from tap_restgeneric.tools import importer, partitions, preview, validate
from tap_restgeneric.tools.common import ToolError, err
from tap_restgeneric.tools.openapi import command as openapi


def parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    main_parser = argparse.ArgumentParser(
        prog="restgeneric",
        description="Write and check tap-restgeneric configs (dlt's rest_api_source dialect).",
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate.add_parser(commands)
    preview.add_parser(commands)
    importer.add_parser(commands)
    openapi.add_parser(commands)
    partitions.add_parser(commands)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit status."""
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except ToolError as exc:
        for line in exc.lines:
            err(line)
        return 1
    except Halted as exc:  # Ctrl-C while a tap walked pages (preview, --check)
        err(str(exc))
        return 1 if exc.signum is None else 128 + exc.signum
    except Exception as exc:  # the last resort: one redacted line, the traceback only at DEBUG
        if os.environ.get("LOGLEVEL", "").upper() == "DEBUG":
            err("".join(traceback.format_exception(exc)))
        err(f"unexpected error: {one_line(exc)} (LOGLEVEL=DEBUG shows the traceback)")
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
