"""CLI edges: read --config files (JSON or YAML) within limits; end failed runs with one line each.

A config file is hostile input until read: its size, its nesting, its YAML aliases are bounded
and every read, decode or parse problem is one line naming the file (and line and column where
known). Anything that still escapes ends the run with one redacted line, the traceback only at
DEBUG.
"""

from __future__ import annotations

from tap_restgeneric.cli.failures import (
    CLOSED_STDOUT,
    STDOUT_FAILED,
    InputFileError,
    clean_failures,
    one_line_failures,
)
from tap_restgeneric.cli.files import (
    MAX_CONFIG_BYTES,
    MAX_YAML_BYTES,
    read_config_file,
    read_config_files,
    read_json_input,
)
from tap_restgeneric.cli.yaml_loader import LimitError

__all__ = [
    "CLOSED_STDOUT",
    "MAX_CONFIG_BYTES",
    "MAX_YAML_BYTES",
    "STDOUT_FAILED",
    "InputFileError",
    "LimitError",
    "clean_failures",
    "one_line_failures",
    "read_config_file",
    "read_config_files",
    "read_json_input",
]
