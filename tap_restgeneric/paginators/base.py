"""The paginator contract: a request half (``apply``) and a response half (``next_token``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.fields import Field, check_options
from tap_restgeneric.config.templates import Template, TemplateError
from tap_restgeneric.errors import ConfigErrors, Path
from tap_restgeneric.records.selectors import check_jsonpath, compile_path, first_value
from tap_restgeneric.registry import Registry

PAGINATORS: Registry[type[Paginator]] = Registry("paginator")


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


STOP_CONDITION = {"stop_condition": Field("string")}
JSONPATH_OPTIONS = ("cursor_path", "has_more_path", "total_path", "next_url_path")


class Paginator(ABC):
    """One pagination style; options are checked once, an instance serves one request sequence."""

    fields: ClassVar[dict[str, Field]] = {}

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = options
        template = options.get("stop_condition")
        self._stop_condition: Template | None = template

    @classmethod
    def options_from(
        cls, raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> dict[str, Any]:
        """Check raw options against ``fields``, then normalize them."""
        options = check_options(raw, cls.fields, path, errors, ignore=frozenset({"type"}))
        cls.normalize(options, raw, path, errors)
        return options

    @classmethod
    def normalize(
        cls, options: dict[str, Any], raw: Mapping[str, Any], path: Path, errors: ConfigErrors
    ) -> None:
        """Check options across keys and compile them in place (templates, aliases)."""
        for key in JSONPATH_OPTIONS:
            value = options.get(key)
            if isinstance(value, str) and (problem := check_jsonpath(value)):
                errors.add((*path, key), f"invalid JSONPath {value!r}: {problem}", "a JSONPath")
                options[key] = None
        text = options.get("stop_condition")
        if isinstance(text, str):
            try:
                options["stop_condition"] = Template(text)
            except TemplateError as exc:
                errors.add((*path, "stop_condition"), str(exc), "a {{ expression }} template")
                options["stop_condition"] = None

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
