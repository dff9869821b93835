"""A stream's requests as configured: placeholders filled, params, headers and body, credentials."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_restgeneric.config.placeholders import render, render_text
from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http.urls import join_url
from tap_restgeneric.sync.family import MissingParentField, included_fields, placeholder_values

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_restgeneric.config.spec import ResourceSpec, RestApiSpec
    from tap_restgeneric.http.credentials import Credentials
    from tap_restgeneric.sync.bookmarks import IncrementalRun, Window


@dataclass(frozen=True)
class Filled:
    """What one request sequence fills in: placeholder values, window params, included fields."""

    values: dict[str, Any]
    params: dict[str, Any]
    include: dict[str, Any]


class EndpointRequests:
    """Builds a stream's requests from its endpoint spec, for any number of sequences at once.

    ``start`` gives a sequence its placeholder values (parent fields, incremental window) and
    window params; ``request`` and ``prepare`` then build and encode each page's request from
    them, the credentials applied only for configured origins. Nothing per sequence is kept
    here, so date windows can be fetched side by side.
    """

    def __init__(
        self,
        resource: ResourceSpec,
        api: RestApiSpec,
        session: requests.Session,
        credentials: Credentials,
        user_agent: str,
    ) -> None:
        self.resource = resource
        self.api = api
        self.session = session
        self.credentials = credentials
        self.user_agent = user_agent
        self.url = join_url(api.base_url, resource.endpoint.path)
        """The endpoint URL: base_url joined with the path as dlt joins them."""

    def start(
        self, context: Context | None, run: IncrementalRun | None, window: Window | None
    ) -> Filled:
        """A sequence's placeholder values, window params and included fields."""
        try:
            values = placeholder_values(self.resource, context)
        except MissingParentField as exc:
            raise StreamRequestError(f"stream {self.resource.stream_name!r}: {exc}") from None
        values.update(run.values(window) if run and window else {})
        params = run.params(window) if run and window else {}
        return Filled(values, params, included_fields(self.resource, context))

    def request(self, filled: Filled) -> HTTPRequest:
        """The request as configured (placeholders filled), before the paginator's token."""
        endpoint = self.resource.endpoint
        values = filled.values
        params = {**endpoint.params, **filled.params}
        headers = {"User-Agent": self.user_agent, **self.api.headers, **endpoint.headers}
        body = endpoint.json
        if endpoint.placeholders:
            params = render(params, values)
            headers = render(headers, values)
            body = render(body, values, native=True)
        url = self.url
        if endpoint.dynamic_path:
            url = join_url(self.api.base_url, render_text(endpoint.path, values))
        return HTTPRequest(
            url=url,
            method=endpoint.method,
            params=params,
            headers=headers,
            data=copy.deepcopy(body),
        )

    def prepare(self, request: HTTPRequest, filled: Filled) -> requests.PreparedRequest:
        """Encode the request; credentials (auth, secret headers) only go to configured origins."""
        body: dict[str, Any] = {"json": request.data}
        form = self.resource.endpoint.data
        if request.data is None and form is not None:
            placeholders = self.resource.endpoint.placeholders
            body = {"data": render(form, filled.values) if placeholders else form}
        prepared = self.session.prepare_request(
            requests.Request(
                request.method,
                request.url,
                params=request.encode_params(),
                headers=request.headers,
                **body,
            )
        )
        return self.credentials.apply(prepared)
