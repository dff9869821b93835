"""A stream's requests as configured: placeholders filled, params, headers and body, credentials."""

from __future__ import annotations

import copy
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


class EndpointRequests:
    """Builds a stream's requests from its endpoint spec, for one request sequence at a time.

    ``start`` sets the placeholder values (parent fields, incremental window) and window params
    of a sequence; ``request`` and ``prepare`` then build and encode each page's request, the
    credentials applied only for configured origins.
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
        self._values: dict[str, Any] = {}
        self._extra_params: dict[str, Any] = {}

    def start(
        self, context: Context | None, run: IncrementalRun | None, window: Window | None
    ) -> dict[str, Any]:
        """Set the placeholder values and params of a sequence; return its included fields."""
        try:
            self._values = placeholder_values(self.resource, context)
        except MissingParentField as exc:
            raise StreamRequestError(f"stream {self.resource.stream_name!r}: {exc}") from None
        self._values.update(run.values(window) if run and window else {})
        self._extra_params = run.params(window) if run and window else {}
        return included_fields(self.resource, context)

    def request(self) -> HTTPRequest:
        """The request as configured (placeholders filled), before the paginator's token."""
        endpoint = self.resource.endpoint
        values = self._values
        params = {**endpoint.params, **self._extra_params}
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

    def prepare(self, request: HTTPRequest) -> requests.PreparedRequest:
        """Encode the request; credentials (auth, secret headers) only go to configured origins."""
        body: dict[str, Any] = {"json": request.data}
        form = self.resource.endpoint.data
        if request.data is None and form is not None:
            body = {
                "data": render(form, self._values) if self.resource.endpoint.placeholders else form
            }
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
