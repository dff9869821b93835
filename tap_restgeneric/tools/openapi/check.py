"""``import-openapi --check``: the first two pages of every resource, each guess proven or fixed.

The imported config is built into the tap itself (secrets from the ``secrets`` setting of
``--settings`` or the environment, as a run resolves them) and each resource's page sequence is
walked for two pages exactly as a sync walks it (``PageSequence``, the loop ``preview`` uses).
A dependent resource is checked with its parent's first record. Per resource:

- records: the first page has records, or the data path is there and holds an empty list (a
  proven empty collection). When the path finds nothing while the body holds exactly one array of
  objects, that array's path is the fix.
- paging: page 2 shares no record (by primary key, else whole record) with page 1, or paging
  ended with a proven reason. A ``page_number`` paginator counting from 0 whose pages 0 and 1 came
  back alike is fixed to ``base_page`` 1.
- schema: every record fits the declared schema (the drift checker's test); a field the data
  contradicts is widened to the type seen, a field the schema lacks is added.

A fix is kept only when the resource, checked again with it, passes.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.records.drift import Checker
from tap_restgeneric.redaction import REDACT
from tap_restgeneric.sync.bookmarks import IncrementalError, IncrementalRun, utc_now
from tap_restgeneric.sync.sequence import PageSequence, PageStep, UnprovenEnd
from tap_restgeneric.sync.streams import RestGenericStream
from tap_restgeneric.tap import TapRestGeneric
from tap_restgeneric.tools.common import ToolError, quiet_logs

PAGES = 2
ROUNDS = 3  # fixes tried per resource (each one checked again)
JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
    (type(None), "null"),
)


@dataclass
class Verdict:
    """One resource's outcome: ``ok``, ``fixed`` (with what) or ``failed`` (with why)."""

    resource: str
    status: str = "ok"
    detail: str = ""
    pages: int = 0
    records: int = 0
    fixes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """``ok``, ``fixed: …`` or ``failed: …``."""
        return f"{self.status}: {self.detail}" if self.detail else self.status


@dataclass
class Walk:
    """What two pages of one resource showed."""

    steps: list[PageStep] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)
    error: str | None = None
    healed_base: bool = False
    detected: dict[str, Any] | None = None


class Fix(Exception):
    """A change the evidence calls for: ``apply`` edits the resource's config dict."""

    def __init__(self, what: str, apply: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(what)
        self.what = what
        self.apply = apply


class Failed(Exception):
    """A guess the evidence disproves, with no unambiguous fix."""


def build(config: dict[str, Any]) -> TapRestGeneric:
    """The tap for ``config``; ToolError with the tap's own lines when it does not build."""
    with quiet_logs(logging.ERROR):
        try:
            return TapRestGeneric(config=config, parse_env_config=False)
        except ConfigValidationError as exc:
            raise ToolError(*(f"--check: {line}" for line in exc.errors)) from None


def stream_of(tap: TapRestGeneric, name: str) -> RestGenericStream:
    """The stream of resource ``name``."""
    stream = tap.streams[tap.api.stream_names[name]]
    assert isinstance(stream, RestGenericStream)
    return stream


def stream_name(tap: TapRestGeneric, name: str) -> str:
    """The stream name of resource ``name``."""
    return tap.api.stream_names[name]


def walk(stream: RestGenericStream, context: dict[str, Any] | None, pages: int) -> Walk:
    """Up to ``pages`` pages of the stream's sequence, as a sync requests them."""
    seen = Walk()
    spec = stream.resource.endpoint.incremental
    run = IncrementalRun(spec, {}, utc_now()) if spec is not None else None
    window = next(iter(run.windows())) if run is not None else None
    sequence = PageSequence(stream, context, run, window, max_pages=pages, fetch_ahead=False)
    try:
        for step in sequence:
            if step.chunks is not None:  # a large page: its records chunk by chunk
                step.kept = [record for chunk in step.chunks for record in chunk]
                step.records = step.kept
            elif run is not None:
                for record in step.kept:
                    run.observe(record, run.spec.primary_key or ())
            seen.steps.append(step)
            seen.bodies.append(body_of(step))
    except (UnprovenEnd, StreamRequestError, IncrementalError) as exc:
        seen.error = str(exc)
    except Exception as exc:  # one resource's surprise is its verdict, not a crash
        seen.error = f"{type(exc).__name__}: {exc}"
    base = getattr(sequence.paginator, "base_page", None)
    options = getattr(sequence.paginator, "options", None)
    seen.healed_base = base == 1 and bool(getattr(options, "base_defaulted", False))
    seen.detected = sequence.paginator.detection()
    return seen


def body_of(step: PageStep) -> Any:
    """The page's parsed JSON body (None when there is none or it is not JSON)."""
    if step.response is None or step.chunks is not None:
        return None
    try:
        return step.response.json()
    except ValueError:
        return None


def object_arrays(body: Any, trail: tuple[str, ...] = (), depth: int = 3) -> Iterator[str]:
    """Dotted paths of the non-empty arrays of objects in a body (``$``: the body itself)."""
    if isinstance(body, list):
        if body and all(isinstance(x, dict) for x in body):
            yield ".".join(trail) if trail else "$"
        return
    if isinstance(body, dict) and depth > 0:
        for key, value in body.items():
            if isinstance(key, str) and "." not in key:
                yield from object_arrays(value, (*trail, key), depth - 1)


def at_path(body: Any, path: str) -> Any:
    """The value at a dotted path (``$``: the body); None when missing."""
    if path in ("$", ""):
        return body
    node = body
    for key in path.removeprefix("$.").split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def key_of(record: dict[str, Any], keys: tuple[str, ...]) -> str:
    """A record's identity: its primary key, else all of it."""
    value = [record.get(k) for k in keys] if keys else record
    return json.dumps(value, sort_keys=True, default=str)


def json_type(value: Any) -> str:
    """The JSON Schema type of a value."""
    return next(name for kind, name in JSON_TYPES if isinstance(value, kind))


def widen(schema: dict[str, Any], dotted: str, value: Any) -> str:
    """Make ``schema`` accept ``value`` at ``dotted`` (a drift checker misfit); what changed."""
    parts = dotted.split(".")
    node = schema
    for part in parts[:-1]:
        name = part.removesuffix("[]")
        node = node.setdefault("properties", {}).setdefault(name, {})
        if part.endswith("[]"):
            node = node.setdefault("items", {})
    last = parts[-1]
    props = node.setdefault("properties", {})
    seen = json_type(value)
    if last.endswith("[]"):  # an array element of another type: accept any element
        props.setdefault(last[:-2], {})["items"] = {}
        return f"'{dotted[:-2]}' items: any value"
    prop = props.get(last)
    if prop is None:
        props[last] = {"type": [seen, "null"]} if seen != "null" else {}
        return f"'{dotted}' added ({seen})"
    declared = prop.get("type")
    names = [declared] if isinstance(declared, str) else list(declared or [])
    if seen == "integer" and "number" in names:
        return ""
    widened = [*names, seen] if seen not in names else names
    if seen == "number" and "integer" in widened:
        widened.remove("integer")
    prop["type"] = widened
    if seen not in ("string", "null"):  # a format describes strings only
        prop.pop("format", None)
    return f"'{dotted}' {'/'.join(names) or 'any'} → {'/'.join(widened)}"


def value_at(record: dict[str, Any], dotted: str) -> Any:
    """The first value at a misfit's dotted name (``a.b``, ``tags[]``, ``items[].id``)."""
    values: list[Any] = [record]
    for part in dotted.split("."):
        name, many = part.removesuffix("[]"), part.endswith("[]")
        found = [v[name] for v in values if isinstance(v, dict) and name in v]
        values = [x for v in found if isinstance(v, list) for x in v] if many else found
    return values[0] if values else None


class ResourceCheck:
    """Checks every resource of a config against the API, fixing what the evidence shows."""

    def __init__(self, config: dict[str, Any], settings: dict[str, Any]) -> None:
        self.config = json.loads(json.dumps(config))  # no shared parts: fixes stay local
        self.settings = settings
        self.contexts: dict[str, dict[str, Any] | None] = {}
        self._built: TapRestGeneric | None = None

    def tap(self) -> TapRestGeneric:
        """The tap for the config as it is now (built again after a fix)."""
        if self._built is None:
            self._built = build({**self.settings, **self.config})
        return self._built

    def resources(self) -> list[dict[str, Any]]:
        """The config's resource dicts (string resources are not checked)."""
        return [r for r in self.config.get("resources") or [] if isinstance(r, dict)]

    def resource(self, name: str) -> dict[str, Any]:
        """The config dict of resource ``name``."""
        return next(r for r in self.resources() if r.get("name") == name)

    def run(self) -> list[Verdict]:
        """A verdict per resource, in config order; ``self.config`` holds the fixes."""
        verdicts = []
        for resource in self.resources():
            verdicts.append(self.check_resource(resource))
        return verdicts

    def check_resource(self, resource: dict[str, Any]) -> Verdict:
        """Check one resource; apply and re-check fixes up to ROUNDS times."""
        name = str(resource.get("name"))
        verdict = Verdict(name)
        original = json.loads(json.dumps(resource))
        for _ in range(ROUNDS + 1):
            tap = self.tap()
            try:
                with quiet_logs(logging.ERROR):
                    self.prove(tap, name, verdict)
            except Fix as fix:
                if len(verdict.fixes) >= ROUNDS:
                    self.restore(resource, original)
                    tried = "; ".join(verdict.fixes)
                    verdict.status = "failed"
                    verdict.detail = f"{fix.what} still needed after trying: {tried}"
                    return verdict
                fix.apply(resource)
                verdict.fixes.append(fix.what)
                self.contexts.clear()
                self._built = None
                continue
            except Failed as exc:
                why = str(exc).removeprefix(f"stream {stream_name(tap, name)!r}: ")
                if verdict.fixes:  # a fix that does not pass is not kept
                    self.restore(resource, original)
                    why += f" (after trying: {'; '.join(verdict.fixes)})"
                verdict.status, verdict.detail = "failed", REDACT(why)
                return verdict
            if verdict.fixes:
                verdict.status, verdict.detail = "fixed", "; ".join(verdict.fixes)
            return verdict
        return verdict  # pragma: no cover (the loop returns)

    def restore(self, resource: dict[str, Any], original: dict[str, Any]) -> None:
        """Put back the resource as imported (its fixes did not pass)."""
        resource.clear()
        resource.update(original)
        self.contexts.clear()
        self._built = None

    def context(self, tap: TapRestGeneric, stream: RestGenericStream) -> dict[str, Any] | None:
        """The context from the first record of the parent's first page (parents recursively)."""
        parent = stream.resource.parent
        if parent is None:
            return None
        if parent not in self.contexts:
            parent_stream = stream_of(tap, parent)
            upper = self.context(tap, parent_stream)
            seen = walk(parent_stream, upper, 1)
            kept = [r for step in seen.steps for r in step.kept]
            if not kept:
                why = seen.error or "its first page has no records"
                raise Failed(f"parent {parent!r} gave no record to check with ({why})")
            self.contexts[parent] = parent_stream.child_context(kept[0])
        return self.contexts[parent]

    def prove(self, tap: TapRestGeneric, name: str, verdict: Verdict) -> None:
        """Raise Fix or Failed; return when every guess holds."""
        stream = stream_of(tap, name)
        seen = walk(stream, self.context(tap, stream), PAGES)
        verdict.pages = len(seen.steps)
        verdict.records = sum(len(step.records) for step in seen.steps)
        endpoint = stream.resource.endpoint
        if seen.healed_base:
            empty = bool(seen.steps) and not seen.steps[0].records
            why = "page 0 came back empty" if empty else "pages 0 and 1 came back the same"
            raise Fix(f"base_page 1 ({why})", set_base_page)
        if not seen.steps:
            why = seen.error or "no page came back"
            zero = endpoint.paginator.type == "page_number" and base_zero(self.resource(name))
            refused = any(f"failed with status {code}" in why for code in (400, 404, 422))
            if zero and refused:  # the API refuses page 0: try page 1 (kept if it passes)
                raise Fix("base_page 1 (page 0 was refused)", set_base_page)
            raise Failed(why)
        self.prove_records(stream, seen)
        self.prove_paging(stream, seen, endpoint.paginator.type)
        self.prove_schema(name, seen)
        detected = seen.detected
        if endpoint.paginator.type == "auto" and detected and detected.get("type") != "single_page":
            what = f"paginator 'auto' → {json.dumps(detected)} (detected, page 2 new data)"
            raise Fix(what, set_paginator(detected))

    def prove_records(self, stream: RestGenericStream, seen: Walk) -> None:
        """Page 1 has records, or a proven empty collection; else the one array of objects."""
        first, body = seen.steps[0], seen.bodies[0]
        if first.response is None:
            raise Failed("page 1 was ignored by response_actions: nothing to check")
        if first.records:
            return
        path = stream.resource.endpoint.data_selector or stream.selector.path
        found = at_path(body, path) if path is not None else None
        arrays = list(object_arrays(body))
        if len(arrays) == 1 and arrays[0] != path:
            raise Fix(f"data_selector {path!r} → {arrays[0]!r}", set_selector(arrays[0]))
        if found == []:
            return  # a proven empty collection
        if seen.error:
            raise Failed(seen.error)
        where = f"data_selector {path!r}" if path else "the detected data path"
        many = f"{len(arrays)} arrays of objects" if arrays else "no array of objects"
        raise Failed(f"page 1 has no records at {where} and the body holds {many}")

    def prove_paging(self, stream: RestGenericStream, seen: Walk, kind: str) -> None:
        """Page 2 is new data, or paging ended for a proven reason."""
        first = seen.steps[0]
        if seen.error is not None:
            zero = base_zero(self.resource(stream.resource.name))
            if kind == "page_number" and "page 1" in seen.error and zero:
                raise Fix("base_page 1 (pages 0 and 1 came back the same)", set_base_page)
            raise Failed(seen.error)
        if len(seen.steps) < 2:
            end = first.end
            if end is not None and end.proven:
                return
            raise Failed(f"paging stopped after page 1 without a proven end: {end}")
        keys = tuple(stream.resource.primary_key)
        before = {key_of(r, keys) for r in first.records}
        again = [r for r in seen.steps[1].records if key_of(r, keys) in before]
        if again and kind == "page_number" and base_zero(self.resource(stream.resource.name)):
            raise Fix("base_page 1 (pages 0 and 1 came back the same)", set_base_page)
        if again:
            what = f"primary key {', '.join(keys)}" if keys else "content"
            raise Failed(f"page 2 repeats {len(again)} records of page 1 (by {what})")

    def prove_schema(self, name: str, seen: Walk) -> None:
        """Every record fits the declared schema; widen it where the data says otherwise."""
        schema = self.resource(name).get("schema")
        if not isinstance(schema, dict):
            return
        checker = Checker(schema)
        misfits: dict[str, Any] = {}
        for step in seen.steps:
            for record in step.records:
                for dotted in checker.misfits(record):
                    misfits.setdefault(dotted, value_at(record, dotted))
        if misfits:
            trial = copy.deepcopy(schema)
            changes = [widen(trial, d, v) or f"'{d}' widened" for d, v in misfits.items()]
            raise Fix(f"schema {', '.join(changes)}", set_schema(misfits))


def base_zero(resource: dict[str, Any]) -> bool:
    """The resource's page_number paginator counts from 0 (said or defaulted)."""
    paginator = (resource.get("endpoint") or {}).get("paginator")
    return isinstance(paginator, dict) and paginator.get("base_page", 0) in (0, None)


def set_base_page(resource: dict[str, Any]) -> None:
    """``base_page: 1`` on the resource's page_number paginator."""
    paginator = resource.setdefault("endpoint", {}).get("paginator")
    if isinstance(paginator, dict):
        paginator["base_page"] = 1


def set_paginator(detected: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """Write the paginator the tap detected in place of ``auto``."""

    def apply(resource: dict[str, Any]) -> None:
        resource.setdefault("endpoint", {})["paginator"] = dict(detected)

    return apply


def set_selector(path: str) -> Callable[[dict[str, Any]], None]:
    """Set the resource's data_selector."""

    def apply(resource: dict[str, Any]) -> None:
        resource.setdefault("endpoint", {})["data_selector"] = path

    return apply


def set_schema(misfits: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """Widen the resource's declared schema for each value at its dotted name."""

    def apply(resource: dict[str, Any]) -> None:
        for dotted, value in misfits.items():
            widen(resource["schema"], dotted, value)

    return apply


def check(config: dict[str, Any], settings: dict[str, Any]) -> tuple[dict[str, Any], list[Verdict]]:
    """The config with the fixes the evidence called for, and a verdict per resource."""
    checker = ResourceCheck(config, settings)
    verdicts = checker.run()
    return checker.config, verdicts


def table(verdicts: list[Verdict]) -> list[str]:
    """The verdict table: resource, pages, records, verdict."""
    width = max([len("resource"), *(len(v.resource) for v in verdicts)])
    lines = [f"{'resource':<{width}}  pages  records  verdict"]
    for v in verdicts:
        lines.append(f"{v.resource:<{width}}  {v.pages:>5}  {v.records:>7}  {v.line()}")
    return lines
