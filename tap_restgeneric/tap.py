"""TapRestGeneric: config resolved before any request, streams built with what they share, sync."""

from __future__ import annotations

import copy
import signal
from functools import cached_property
from typing import Any

import click
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import StateMessage
from singer_sdk.tap_base import CliTestOptionValue

from tap_restgeneric.about import CONFIG_JSONSCHEMA, settings_from_environment
from tap_restgeneric.cli import clean_failures, read_config_files, read_json_input
from tap_restgeneric.config.fields import shorten
from tap_restgeneric.config.resolve import OWN_SETTINGS, resolve_config
from tap_restgeneric.config.spec import RestApiSpec
from tap_restgeneric.redaction import install_log_redaction
from tap_restgeneric.sdk import ConfigInput, TapSeam, env_var_prefix, start_sync
from tap_restgeneric.sync.build import build_streams
from tap_restgeneric.sync.output import SerializedWriter
from tap_restgeneric.sync.parallel import SnapshotStateWriter, sync_side_by_side
from tap_restgeneric.sync.sampling import infer_schemas, type_before_sync
from tap_restgeneric.sync.shared import Shared
from tap_restgeneric.sync.streams import RestGenericStream


class TapRestGeneric(TapSeam):
    """Singer tap for any REST API described in dlt's rest_api_source config dialect."""

    name = "tap-restgeneric"
    dynamic_catalog = True
    message_writer_class = SerializedWriter
    config_jsonschema = CONFIG_JSONSCHEMA

    def __init__(self, *, config: Any = None, **kwargs: Any) -> None:
        """The SDK's tap, on a copy of a config dict: the caller's dict is never modified.

        The SDK writes the settings' defaults (and ``TAP_RESTGENERIC_*`` values) into the dict
        it is given; a dict reused by the caller (for another tap, or compared afterwards) must
        stay as it was.
        """
        if isinstance(config, dict):
            config = copy.deepcopy(config)
        super().__init__(config=config, **kwargs)

    @classmethod
    def env_var_config(cls) -> dict[str, Any]:
        """``TAP_RESTGENERIC_*`` settings, with numeric ones (``request_timeout``...) as numbers."""
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return settings_from_environment(schema, env_var_prefix(cls), cls.logger)

    def validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Validate built-in settings with the SDK, then resolve our config into a spec."""
        install_log_redaction()
        own = tuple(f" in config[{key!r}]" for key in OWN_SETTINGS)
        required = {f"{key!r} is a required property" for key in OWN_SETTINGS}
        try:
            checked = self.sdk_config_errors(raise_errors=False)
        except Exception:  # the SDK's schema check breaks on some values (stream_maps
            checked = []  # {"__else__": "x"}); resolve_config reports those with their path
            self.logger.debug("The SDK's config check failed", exc_info=True)
        errors = [shorten(e) for e in checked if not any(o in e for o in own) and e not in required]
        builtin = self.config_jsonschema["properties"].keys()
        try:
            self.api: RestApiSpec = resolve_config(self.config_dict, builtin)
        except ConfigValidationError as exc:
            errors.extend(exc.errors)
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return errors

    @cached_property
    def shared(self) -> Shared:
        """What the run's streams share (limiter, halt signal, authenticators), handed to each."""
        return Shared.for_api(self.api)

    def sync_selected_streams(self) -> None:
        """Sync every selected stream; independent top-level ones side by side when allowed.

        With ``max_concurrency`` above 1 and several top-level streams, this is the SDK's
        ``sync_all`` with the loop over streams run on threads (children run with their parent).
        """
        try:
            self._sync_streams()
        except BaseException:
            # A failed run still ends with the STATE of everything it wrote (SPEC §8), after
            # its last RECORD even when unchanged, and each stream's summary says how far it got.
            self.write_message(StateMessage(value=self.state))
            for stream in self.streams.values():
                if isinstance(stream, RestGenericStream):
                    stream.log_summary(failed=True)
            raise

    def stop_requested(self, signum: int) -> None:
        """SIGINT or SIGTERM: every stream stops at its next page, then the run ends with its
        STATE and exit status 128 + the signal's number. A second signal, or one before the
        streams exist, ends it at once."""
        shared: Shared | None = self.__dict__.get("shared")
        if shared is None or shared.halt.is_set():
            raise SystemExit(128 + signum)
        self.logger.warning(
            "Received %s: each stream stops at its next page; the run then ends with exit "
            "status %d (a second signal ends it at once)",
            signal.Signals(signum).name,
            128 + signum,
        )
        shared.halt.stop(signum)

    def _sync_streams(self) -> None:
        self.type_before_sync()
        roots = [
            stream
            for stream in self.streams.values()
            if not stream.parent_stream_type
            and (stream.selected or stream.has_selected_descendents)
        ]
        width = min(self.api.max_concurrency, len(roots))
        if width <= 1:
            self.sdk_sync_all()
            return
        start_sync(self, SnapshotStateWriter(self.message_writer))
        for stream in self.streams.values():
            if not (stream.selected or stream.has_selected_descendents):
                self.logger.info("Skipping deselected stream '%s'.", stream.name)
        sync_side_by_side(roots, width, self.shared.halt)
        for stream in self.streams.values():
            stream.log_sync_costs()

    def discover_streams(self) -> list[RestGenericStream]:
        """One generated stream class per resource, parents first; no network calls."""
        return build_streams(self, self.api, self.shared)

    def run_discovery(self) -> str:
        """Infer the schemas that were not declared, then print the catalog."""
        self.infer_schemas()
        return super().run_discovery()

    def infer_schemas(self, only: set[str] | None = None) -> None:
        """Sample each stream without a declared schema (parents first) and type it."""
        infer_schemas(self.api, self._rest_streams(), only, log=self.logger)

    def type_before_sync(self) -> None:
        """No catalog: type the streams whose first page synced state would filter, beforehand."""
        type_before_sync(self.api, self._rest_streams(), log=self.logger)

    def _rest_streams(self) -> dict[str, RestGenericStream]:
        """The resources' streams by Singer stream name."""
        names = self.api.stream_names.values()
        return {n: s for n in names if isinstance(s := self.streams[n], RestGenericStream)}

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """Run the CLI; any failure ends the run with clear lines and exit status 1."""
        with clean_failures(cls.logger):
            for key in ("state", "catalog"):
                if kwargs.get(key) is not None:
                    kwargs[key] = read_json_input(kwargs[key], key)
            super().invoke(*args, **kwargs)

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """Read --config files (JSON, or YAML by extension); unreadable files end the run."""
        with clean_failures(cls.logger):
            config, parse_env = read_config_files(value, cls.logger)
        return ConfigInput(config=config, parse_env=parse_env)

    @classmethod
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """--discover, with config errors and failures reported as lines."""
        with clean_failures(cls.logger):
            super().cb_discover(ctx, param, value)

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """--test, with config errors and failed requests as lines; --test=schema infers first."""
        with clean_failures(cls.logger):
            if value != CliTestOptionValue.Schema.value:
                super().cb_test(ctx, param, value)
                return
            config: ConfigInput = ctx.params.get("config", ConfigInput())
            tap = cls(config=config.config, parse_env_config=config.parse_env)
            tap.infer_schemas()
            tap.write_schemas()
            ctx.exit()


if __name__ == "__main__":
    TapRestGeneric.cli()
