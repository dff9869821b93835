"""Failed runs end with one redacted error line each and exit status 1 (``clean_failures``)."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from singer_sdk.exceptions import ConfigValidationError, MapExpressionError, StreamMapConfigError

from tap_restgeneric.config.fields import MAX_LINE, clip, shorten
from tap_restgeneric.errors import StreamRequestError, format_path
from tap_restgeneric.records.drift import SchemaDriftError
from tap_restgeneric.redaction import excerpt, install_log_redaction
from tap_restgeneric.sync.output import StdoutFailed
from tap_restgeneric.sync.parallel import Halted

CLOSED_STDOUT = (
    "stdout was closed by its reader (the target stopped reading; its own error says why): the "
    "run stops here, and resumes from the last STATE the target received"
)


STDOUT_FAILED = (
    "the run stops here; the last line written may be cut short, and a resume starts from the "
    "last whole STATE line before it"
)


class InputFileError(ValueError):
    """A --state or --catalog file that cannot be used: the message names it."""


def fail(logger: logging.Logger, lines: list[str]) -> NoReturn:
    """Log each line as an error (shortened) and exit with status 1."""
    for line in lines:
        logger.error("%s", shorten(line))
    sys.exit(1)


class _DropSdkFailureEcho(logging.Filter):
    """The SDK logs "An unhandled error occurred while syncing" before the tap's own line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("An unhandled error occurred while syncing")


def one_line_failures() -> None:
    """Keep a failed run to the tap's single error line (the SDK's echo is dropped)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _DropSdkFailureEcho) for f in handler.filters):
            handler.addFilter(_DropSdkFailureEcho())


def one_line(exc: BaseException) -> str:
    """The exception as one short redacted line: ``TypeName: message``."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return excerpt(clip(text, MAX_LINE))


@contextmanager
def clean_failures(logger: logging.Logger) -> Iterator[None]:
    """Turn config errors and failed requests into error lines and exit status 1.

    The last resort: anything unforeseen is one redacted line (the traceback, redacted, only
    at DEBUG) and exit status 1. Click's own exits and usage errors pass through.
    """
    install_log_redaction()
    one_line_failures()
    try:
        yield
    except ConfigValidationError as exc:
        fail(logger, [*exc.errors, "Config validation failed"])
    except Halted as exc:  # a signal: not a complete run, so not exit status 0
        logger.error("%s", exc)
        sys.exit(1 if exc.signum is None else 128 + exc.signum)
    except (StreamRequestError, SchemaDriftError, InputFileError) as exc:
        fail(logger, [str(exc)])
    except (MapExpressionError, StreamMapConfigError) as exc:
        where = format_path(("stream_maps",))
        fail(
            logger, [f"stream map failed: {one_line(exc)}; expected a valid stream map at {where}"]
        )
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except BrokenPipeError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        if isinstance(exc, StdoutFailed):
            fail(logger, [f"cannot write to stdout ({exc.strerror}): {STDOUT_FAILED}"])
        fail(logger, [CLOSED_STDOUT])
    except Exception as exc:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", clip("".join(traceback.format_exception(exc)), 100_000))
        line = f"unexpected error: {one_line(exc)} (log level DEBUG shows the traceback)"
        fail(logger, [line])
