"""Shared by tests/test_retries.py and tests/test_responses.py: one endpoint, its responses."""

from __future__ import annotations

from http import HTTPStatus
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import requests_mock
from helpers import BASE_URL, page, record_sleeps, run, serve

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.http import retries

URL = f"{BASE_URL}/items"
OK = page({"data": [{"id": 1}, {"id": 2}]})
SINGLE = {"paginator": "single_page", "data_selector": "data"}


def instant_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Instant retries without jitter; the waits asked for, in order."""
    monkeypatch.setattr(retries, "random", SimpleNamespace(random=lambda: 0.0))
    return record_sleeps(monkeypatch)


def status(code: int, text: str = "", **response: Any) -> dict[str, Any]:
    """requests-mock kwargs for a response with this status, its reason phrase and body text."""
    return {"status_code": code, "reason": HTTPStatus(code).phrase, "text": text, **response}


def fetch(*responses: dict[str, Any], **endpoint: Any) -> list[dict[str, Any]]:
    """Serve ``responses`` at URL and run a single-page endpoint; return its records."""
    client = endpoint.pop("client", None)
    with requests_mock.Mocker() as m:
        serve(m, URL, *responses)
        return run({**SINGLE, **endpoint}, client=client)


def failure(*responses: dict[str, Any], **endpoint: Any) -> str:
    """The StreamRequestError message of a run that must fail."""
    with pytest.raises(StreamRequestError) as raised:
        fetch(*responses, **endpoint)
    return str(raised.value)


def get(url: str) -> requests.PreparedRequest:
    """A prepared GET."""
    return requests.Request("GET", url).prepare()
