"""The paginator contract: a request half (``apply``) and a response half (``next_token``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.fields import Field
from tap_restgeneric.config.options import Options, option
from tap_restgeneric.config.spec import ComponentSpec
from tap_restgeneric.config.templates import Template, TemplateError
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.records.selectors import check_jsonpath, compile_path, first_value
from tap_restgeneric.registry import Registry

PAGINATORS: Registry[type[Paginator]] = Registry("paginator")


def build_paginator(spec: ComponentSpec, *, base_url: str = "") -> Paginator:
    """A fresh paginator for a resolved spec (``base_url``: what ``relative_to`` may name).

    Its options were built when the config was resolved; a spec written with a plain dict (an
    EndpointSpec's default ``auto``) is built here from it.
    """
    cls = PAGINATORS[spec.type]
    options = spec.options
    if not isinstance(options, cls.options_type):
        errors = ConfigErrors()
        options = cls.options_from(options, (), errors)
        errors.raise_if_any()
    return cls(options, base_url=base_url)


class PaginationError(Exception):
    """The response contradicts the paginator config (e.g. a configured total is missing)."""


class MoreData(PaginationError):
    """The paginator would end here but the response says there is more (SPEC §8): an unproven
    end, reported with the page and subject to ``on_unproven_end``."""


class Stop(NamedTuple):
    """The end of pagination, with the reason shown to the user."""

    reason: str


class Recovery(NamedTuple):
    """How to go on after a repeated page: the token to request it with, and what to tell."""

    token: Any
    note: str


@dataclass
class Page:
    """One fetched page: the request sent, the response, its parsed body and its records.

    A large page parsed in chunks has ``StreamedRecords`` (their count, first chunk and last
    record) as its records, and in its body at the data path.
    """

    request: HTTPRequest
    response: requests.Response
    body: Any
    records: Sequence[dict[str, Any]]
    number: int


def set_body_path(request: HTTPRequest, dotted: str, value: Any) -> None:
    """Write ``value`` at a dot-path in the JSON body, creating objects, keeping other keys."""
    if not isinstance(request.data, dict):
        request.data = {}
    node: dict[str, Any] = request.data
    *parents, last = dotted.split(".")
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[last] = value


def write_value(request: HTTPRequest, param: str | None, body_path: str | None, value: Any) -> None:
    """Send ``value`` at a JSON body path when one is configured, else as a query param."""
    if body_path:
        set_body_path(request, body_path, value)
    elif param:
        request.params[param] = value


@dataclass(frozen=True, eq=False)
class PaginatorOptions(Options):
    """The options every paginator has: none (``single_page``, ``auto``)."""

    def stop_template(self) -> Template | None:
        """The compiled stop_condition (None: there is none)."""
        return None

    @classmethod
    def normalize(
        cls, values: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Check the JSONPath options."""
        for key in cls.jsonpaths():
            value = values.get(key)
            if isinstance(value, str) and (problem := check_jsonpath(value)):
                errors.add((*path, key), f"invalid JSONPath {value!r}: {problem}", "a JSONPath")
                values[key] = None


@dataclass(frozen=True, eq=False)
class StopOptions(PaginatorOptions):
    """Options of a paginated style: ``stop_condition``, compiled once when built."""

    stop_condition: Template | None = option("string")  # noqa: RUF009 (a field factory)

    def stop_template(self) -> Template | None:
        """The compiled stop_condition."""
        return self.stop_condition

    @classmethod
    def normalize(
        cls, values: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Check the JSONPaths, then compile stop_condition."""
        super().normalize(values, raw, path, errors)
        text = values.get("stop_condition")
        if isinstance(text, str):
            try:
                values["stop_condition"] = Template(text)
            except TemplateError as exc:
                errors.add((*path, "stop_condition"), str(exc), "a {{ expression }} template")
                values["stop_condition"] = None


class Paginator(ABC):
    """One pagination style; options are built once at resolve time (``options_type``), an
    instance serves one request sequence.

    A style is one subclass registered with ``@PAGINATORS.register(name)``: its options
    dataclass, the request half (``apply``), the response half (``next_token``: a token or a
    ``Stop`` with its reason) and ``explain`` (why the next request carries a token).
    """

    options_type: ClassVar[type[PaginatorOptions]] = PaginatorOptions
    fields: ClassVar[dict[str, Field]] = {}
    """The validator's table, derived from ``options_type``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.fields = cls.options_type.fields()

    def __init__(self, options: PaginatorOptions, *, base_url: str = "") -> None:
        self.options = options
        self.base_url = base_url
        self._stop_condition = options.stop_template()

    @classmethod
    def options_from(
        cls, raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> PaginatorOptions:
        """Check raw options against ``fields``, normalize them, build the typed options."""
        return cls.options_type.build(raw, path, errors)

    @classmethod
    def idle_options(cls, raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """Options written in ``raw`` that have no effect, with why (for ``validate`` hints)."""
        if "limit" in cls.fields and "limit" not in raw:
            for key in ("limit_param", "limit_body_path"):
                if key in raw:
                    yield key, f"{key!r} has no effect without 'limit' (no page size is sent)"

    def body_paths(self) -> dict[str, str]:
        """The JSONPaths this paginator reads in the response body, by option name."""
        found = {key: self.options[key] for key in self.options.jsonpaths()}
        return {key: value for key, value in found.items() if isinstance(value, str)}

    def ends_on_empty_page(self) -> bool:
        """Whether an empty page is this style's end (so an empty page repeated is no doubt)."""
        return False

    def detection(self) -> dict[str, Any] | None:
        """What this paginator detected from the responses, as config (None: nothing)."""
        return None

    def first_token(self) -> Any:
        """The token of the first request (None: the request is sent as configured)."""
        return None

    def apply(self, request: HTTPRequest, token: Any) -> None:  # noqa: B027
        """Write the token (and any fixed paging parameters) into the request."""

    def predict(self, page: Page, token: Any, ahead: int) -> Any:
        """The token ``ahead`` pages after ``token``, if it can be known before (None: it cannot).

        Only styles whose tokens do not depend on the response can be fetched ahead.
        """
        return None

    def recover(self, repeated: Page, token: Any) -> Recovery | None:
        """When ``repeated`` came back the same as an earlier page: the way on, if the config's
        intent makes it unambiguous (None: it does not; raise PaginationError to say why not).
        """
        return None

    def explain(self, token: Any) -> str:
        """Why the next request carries ``token``, in the words of the config."""
        return f"{token!r}"

    @abstractmethod
    def next_token(self, page: Page, token: Any) -> Any:
        """Return the token of the next page, or a ``Stop``."""

    def advance(self, page: Page, token: Any) -> Any:
        """Apply the stop condition, then the style's own rule."""
        if self._stop_condition is not None:
            names = {
                "response": page.body,
                "headers": page.response.headers,
                "records": page.records,
                "page": page.number,
            }
            try:
                verdict = self._stop_condition.evaluate(names)
            except Exception as exc:  # TemplateError, or the expression's own error
                detail = str(exc) if isinstance(exc, TemplateError) else repr(exc)
                msg = f"stop_condition {self._stop_condition.text!r} failed: {detail}"
                raise PaginationError(msg) from None
            if verdict:
                return Stop(f"stop_condition {self._stop_condition.text!r} is true")
        return self.next_token(page, token)


def read_path(page: Page, path: str) -> Any:
    """Read the first value at a JSONPath in the page body (None when absent)."""
    return first_value(compile_path(path), page.body)


TRUE_WORDS = {"yes", "true", "t", "y", "1"}
FALSE_WORDS = {"no", "false", "f", "n", "0"}


def has_more(page: Page, path: str) -> bool:
    """Read a has-more flag (a boolean or a yes/no word); absent or odd values are errors."""
    value = read_path(page, path)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    msg = f"has_more_path {path!r} is {value!r} in the response; expected true or false"
    raise PaginationError(msg)
