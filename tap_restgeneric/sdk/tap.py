"""The tap's side of the SDK seam: settings from the environment, config checks, the sync loop."""

from __future__ import annotations

import os
from types import FrameType
from typing import Any

from singer_sdk import Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers._state import StateWriter
from singer_sdk.plugin_base import _ConfigInput

ConfigInput = _ConfigInput
"""Relies on ``plugin_base._ConfigInput(config, parse_env)``: what ``cb_config`` returns."""

__all__ = [
    "ConfigInput",
    "StateWriter",
    "TapSeam",
    "env_var_prefix",
    "environment_settings",
    "start_sync",
]


def env_var_prefix(tap_class: type[Tap]) -> str:
    """Relies on ``PluginBase._env_var_prefix``: ``TAP_RESTGENERIC_`` for this tap."""
    prefix: str = tap_class._env_var_prefix
    return prefix


def environment_settings(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Relies on ``parse_environment_config(schema, prefix, dotenv_path)``: the settings of
    ``schema`` found as ``<prefix><NAME>`` variables, typed as the SDK types them; no .env file
    is read (``os.devnull``: the SDK would search upwards from its own installed files)."""
    return parse_environment_config(schema, prefix, dotenv_path=os.devnull)


def start_sync(tap: Tap, state_writer: StateWriter) -> None:
    """The start of the SDK's ``Tap.sync_all`` with another state writer.

    Relies on ``Tap._state_writer`` (what ``Tap.state_writer`` returns and every stream's
    ``_write_state_message`` writes through), ``Tap._reset_state_progress_markers()`` and
    ``Tap._set_compatible_replication_methods()``, then STATE when the input state has any.
    """
    tap._state_writer = state_writer
    tap._reset_state_progress_markers()
    tap._set_compatible_replication_methods()
    if tap.state:
        tap.state_writer.write_state(tap.state)


class TapSeam(Tap):
    """The SDK's private (and final) tap methods, overridden once, each handing over to a hook.

    The tap overrides ``env_var_config``, ``validate_config``, ``sync_selected_streams`` and
    ``stop_requested``.
    """

    @classmethod
    def env_var_config(cls) -> dict[str, Any]:
        """Settings from the environment (hook; default: the SDK's)."""
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return parse_environment_config(schema, env_var_prefix(cls))

    def validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Check the config; return the error lines (hook; default: the SDK's schema check)."""
        return self.sdk_config_errors(raise_errors=raise_errors)

    def sdk_config_errors(self, *, raise_errors: bool = False) -> list[str]:
        """Relies on ``PluginBase._validate_config(raise_errors=...)``: the settings checked
        against ``config_jsonschema`` (warnings and error lines, or ConfigValidationError)."""
        return super()._validate_config(raise_errors=raise_errors)

    @property
    def config_dict(self) -> dict[str, Any]:
        """Relies on ``PluginBase._config``: the config dict (``config`` is a read-only view)."""
        config: dict[str, Any] = self._config
        return config

    def sync_selected_streams(self) -> None:
        """Sync every selected stream (hook; default: the SDK's ``sync_all``)."""
        self.sdk_sync_all()

    def sdk_sync_all(self) -> None:
        """The SDK's ``Tap.sync_all``: every selected top-level stream in turn."""
        super().sync_all()

    def stop_requested(self, signum: int) -> None:
        """SIGINT or SIGTERM arrived (hook; default: the SDK's: STATE, then exit status 0)."""
        super()._handle_termination(signum, None)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """Relies on the SDK's constructor installing this method as the SIGINT and SIGTERM
        handler (``PluginBase._setup_signal_handlers``, from the main thread)."""
        self.stop_requested(signum)

    @classproperty
    def _env_var_config(cls) -> dict[str, Any]:
        """Relies on the SDK reading the environment's settings from this class property."""
        return cls.env_var_config()

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Relies on the SDK checking the config with this method (at init and ``--about``)."""
        return self.validate_config(raise_errors=raise_errors)

    def sync_all(self) -> None:  # type: ignore[misc]  # the SDK marks it final; no hook exists
        """Relies on the CLI's sync calling ``Tap.sync_all()`` (final in the SDK's typing)."""
        self.sync_selected_streams()
