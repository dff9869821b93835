"""TapRestGeneric: settings, config resolution before any request, one stream class per resource."""

from __future__ import annotations

import copy
import math
import os
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from dotenv import dotenv_values
from singer_sdk import typing as th
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import StateMessage
from singer_sdk.tap_base import CliTestOptionValue

from tap_restgeneric.cli import clean_failures, read_config_files, read_json_input
from tap_restgeneric.config.fields import shorten
from tap_restgeneric.config.resolve import (
    MAX_CONCURRENCY,
    MAX_REQUEST_TIMEOUT,
    MAX_SAMPLE_PAGES,
    MAX_SAMPLE_RECORDS,
    OWN_SETTINGS,
    resolve_config,
)
from tap_restgeneric.config.spec import ComponentSpec, RestApiSpec
from tap_restgeneric.http.auth import Authenticators
from tap_restgeneric.http.limiter import HostLimiter
from tap_restgeneric.redaction import install_log_redaction
from tap_restgeneric.sdk import (
    ConfigInput,
    TapSeam,
    env_var_prefix,
    environment_settings,
    start_sync,
)
from tap_restgeneric.sync.family import fields_for_children
from tap_restgeneric.sync.output import SerializedWriter
from tap_restgeneric.sync.parallel import SnapshotStateWriter, sync_side_by_side
from tap_restgeneric.sync.streams import RestGenericStream, make_stream_class


class TapRestGeneric(TapSeam):
    """Singer tap for any REST API described in dlt's rest_api_source config dialect."""

    name = "tap-restgeneric"
    dynamic_catalog = True
    message_writer_class = SerializedWriter
    config_jsonschema = th.PropertiesList(
        th.Property(
            "client",
            th.ObjectType(additional_properties=True),
            required=True,
            description="dlt client: base_url, headers, auth, paginator, error_handler.",
        ),
        th.Property(
            "resource_defaults",
            th.ObjectType(additional_properties=True),
            description="dlt resource_defaults, merged into every resource by dlt's rules.",
        ),
        th.Property(
            "resources",
            th.ArrayType(th.CustomType({"type": ["string", "object"]})),
            required=True,
            description="dlt resources: names or resource objects (one Singer stream each).",
        ),
        th.Property(
            "secrets",
            th.ObjectType(additional_properties=True),
            secret=True,
            description='Named secret values, referenced anywhere as {"secret": "NAME"}.',
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Start of incremental resources without initial_value or bookmark.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType(exclusive_minimum=0, maximum=MAX_REQUEST_TIMEOUT),
            default=60,
            description=(
                "Seconds to wait for a response before retrying (default 60; above 0, at most "
                f"{MAX_REQUEST_TIMEOUT})."
            ),
        ),
        th.Property(
            "schema_drift",
            th.StringType,
            default="evolve",
            allowed_values=["evolve", "freeze", "fail"],
            description=(
                "Records with fields or types the schema lacks: evolve (write an updated "
                "SCHEMA), freeze (drop such fields), fail. Per resource: schema_drift."
            ),
        ),
        th.Property(
            "schema_sample_pages",
            th.IntegerType(minimum=1, maximum=MAX_SAMPLE_PAGES),
            default=1,
            description=(
                "Pages per stream sampled by --discover to infer undeclared schemas "
                f"(1 to {MAX_SAMPLE_PAGES})."
            ),
        ),
        th.Property(
            "schema_sample_records",
            th.IntegerType(minimum=1, maximum=MAX_SAMPLE_RECORDS),
            default=1000,
            description=(
                "At most this many records per stream are used to infer a schema "
                f"(1 to {MAX_SAMPLE_RECORDS:,})."
            ),
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType(minimum=1, maximum=MAX_CONCURRENCY),
            default=4,
            description=(
                "Requests in flight at once over the run: independent top-level streams are "
                "synced side by side, and page_number and offset pages are requested ahead once "
                f"two full pages came back alike (1: one request at a time; at most "
                f"{MAX_CONCURRENCY})."
            ),
        ),
        th.Property(
            "ca_bundle",
            th.StringType,
            description="Path to a CA bundle for TLS verification (verification is always on).",
        ),
    ).to_dict()

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
        """``TAP_RESTGENERIC_*`` settings, with numeric ones (``request_timeout``...) as numbers.

        The SDK passes a ``number`` setting's text on as a string (a type error), and ends the
        run with a bare ValueError on an ``integer`` setting that is not one. Here ``5`` and
        ``2.5`` become numbers; other text stays a string, for a config error naming the setting.
        """
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        properties: dict[str, Any] = schema.get("properties", {})
        numeric = {key: kind for key, prop in properties.items() if (kind := _numeric_kind(prop))}
        others = {key: prop for key, prop in properties.items() if key not in numeric}
        load_working_dotenv()
        # No .env file read by the SDK: it would search upwards from its own installed files
        # and let it override the environment; the working directory's was loaded just above.
        prefix = env_var_prefix(cls)
        config = environment_settings({**schema, "properties": others}, prefix)
        for key, kind in numeric.items():
            name = prefix + key.upper().replace("-", "_")
            if name in os.environ:
                cls.logger.info("Parsing '%s' config from env variable '%s'.", key, name)
                config[key] = _env_number(os.environ[name], kind)
        return config

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
    def limiter(self) -> HostLimiter:
        """The per-host pause and the cap on requests in flight, shared by all streams."""
        return HostLimiter(self.api.max_concurrency)

    @cached_property
    def halt(self) -> threading.Event:
        """Set when a stream synced side by side failed: the others stop before their next page."""
        return threading.Event()

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
        sync_side_by_side(roots, width, self.halt)
        for stream in self.streams.values():
            stream.log_sync_costs()

    def discover_streams(self) -> list[RestGenericStream]:
        """One generated stream class per resource, parents first; no network calls."""
        needed = fields_for_children(self.api.resources)
        classes: dict[str, type[RestGenericStream]] = {}
        for res in self.api.resources:
            parent = classes[res.parent] if res.parent else None
            classes[res.name] = make_stream_class(res, self.api, parent, needed.get(res.name))
        return [cls(self) for cls in classes.values()]

    def run_discovery(self) -> str:
        """Infer the schemas that were not declared, then print the catalog."""
        self.infer_schemas()
        return super().run_discovery()

    def infer_schemas(self, only: set[str] | None = None) -> None:
        """Sample each stream without a declared schema (parents first) and type it.

        ``only`` (before a sync): type just these resources; their parents are sampled for
        contexts, and a resource whose sample has no records still waits for its first page.
        """
        samples: dict[str, list[dict[str, Any]]] = {}
        streams = {name: self.streams[name] for name in self.api.stream_names.values()}
        visit = set(only or ())
        for resource in reversed(self.api.resources):  # children first: their parents too
            if resource.name in visit and resource.parent is not None:
                visit.add(resource.parent)
        for resource in self.api.resources:  # parents first
            if only is not None and resource.name not in visit:
                continue
            stream = streams[resource.stream_name]
            assert isinstance(stream, RestGenericStream)
            contexts: list[Any] = [None]
            if resource.parent is not None:
                parent = streams[self.api.stream_names[resource.parent]]
                assert isinstance(parent, RestGenericStream)
                contexts = [parent.child_context(r) for r in samples.get(resource.parent, [])[:5]]
                if not contexts and not resource.schema_complete and only is None:
                    self.logger.warning(
                        "Stream %r: could not sample records to infer a schema (its parent %r "
                        "gave none); using a permissive schema",
                        stream.name,
                        resource.parent,
                    )
            samples[resource.name] = stream.sample_schema(
                contexts, sync=only is not None, type_it=only is None or resource.name in only
            )

    def type_before_sync(self) -> None:
        """No catalog: type the streams whose first page synced state would filter, beforehand.

        Without a catalog an undeclared schema is typed from the first page synced. A bookmark
        of the stream or of an ancestor (whose records give the stream its contexts) would
        make that another page than a run without state typed it from, so such streams are
        typed from that page, sampled as --discover samples (from the start value, no state).
        """
        filtered: set[str] = set()
        typed: set[str] = set()
        for resource in self.api.resources:  # parents first
            stream = self.streams[resource.stream_name]
            assert isinstance(stream, RestGenericStream)
            if stream.bookmarked or resource.parent in filtered:
                filtered.add(resource.name)
                if stream.selected and stream.awaits_first_page:
                    typed.add(resource.name)
        if typed:
            self.infer_schemas(typed)

    @cached_property
    def authenticators(self) -> Authenticators:
        """The run's authenticators, one per distinct auth spec (so one token)."""
        return Authenticators(self.api.request_timeout, self.api.ca_bundle or True)

    def authenticator_for(self, spec: ComponentSpec | None) -> APIAuthenticatorBase:
        """The run-wide authenticator for an auth spec (one per distinct spec, so one token)."""
        return self.authenticators(spec)

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


def _numeric_kind(prop: dict[str, Any]) -> str | None:
    """``integer`` or ``number`` for a setting of that JSON type (nullable or not), else None."""
    kind = prop.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    kinds.discard("null")
    return kinds.pop() if len(kinds) == 1 and kinds <= {"integer", "number"} else None


def load_working_dotenv() -> None:
    """Meltano's rule for ``.env``: only the working directory's, and the environment wins."""
    path = Path.cwd() / ".env"
    if path.is_file():
        for name, value in dotenv_values(path).items():
            if value is not None:
                os.environ.setdefault(name, value)


def _env_number(text: str, kind: str) -> Any:
    """An environment variable's text as the setting's number; text that is none stays as is."""
    try:
        return int(text)
    except ValueError:
        pass
    if kind == "number":
        try:
            value = float(text)
        except ValueError:
            return text
        if math.isfinite(value):
            return value
    return text


if __name__ == "__main__":
    TapRestGeneric.cli()
