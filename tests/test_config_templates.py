"""config/templates.py: a stop_condition template is read-only and bounded, in process (the same
probes through the CLI: tests/test_hostile_requests.py)."""

from __future__ import annotations

import json
import time

import pytest
from template_probes import PROBES, RUNTIME

from tap_restgeneric.config import template_sandbox
from tap_restgeneric.config.templates import Template, TemplateError


@pytest.mark.parametrize(("kind", "template"), PROBES)
def test_template_probe_in_process(kind: str, template: str) -> None:
    """The same probes on the Template itself: refused within a second, data unchanged."""
    started = time.monotonic()
    names = {
        "response": {"data": [{"id": 1}], "next": "p2"},
        "headers": {"X-Total": "3"},
        "records": [{"id": 1}, {"id": 2}],
        "page": 1,
    }
    snapshot = json.dumps(names, sort_keys=True)
    try:
        compiled = Template(template)
    except TemplateError:
        assert template not in RUNTIME
    else:
        assert template in RUNTIME, template
        with pytest.raises(TemplateError, match="will not evaluate"):
            compiled.evaluate(names)
    assert json.dumps(names, sort_keys=True) == snapshot
    assert time.monotonic() - started < 2


def test_template_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long evaluation (a 20 MB string counted 300 times) stops at the budget."""
    monkeypatch.setattr(template_sandbox, "TIME_BUDGET", 0.05)
    text = "{{ " + " + ".join(["response.get('s').count('x')"] * 60) + " < 0 }}"
    names = {"response": {"s": "y" * 20_000_000}, "headers": {}, "records": [], "page": 1}
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"ran longer than 0.05 s"):
        Template(text).evaluate(names)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ response.get('hasNext', {}) == False }}", True),
        ("{{ response.next.upper() == 'P2' and 'p' in response.next }}", True),
        ("{{ headers.get('X-Total') == str(len(records) + 1) }}", True),
        ("{{ 2**64 > page and -page ** 2 < 0 and 10 ** 100 > 1 }}", True),
        ("{{ f'{page}-{response.next}' == '1-p2' }}", True),
        ("{{ int(headers.get('X-Total', '0')) <= page * len(records) }}", False),
        ("{{ len(records + records) == 4 and 'ab' * 3 == 'ababab' }}", True),
        ("{{ list(response.keys())[0] }}", None),
    ],
)
def test_read_only_templates_still_evaluate(template: str, expected: bool | None) -> None:
    names = {
        "response": {"hasNext": False, "next": "p2"},
        "headers": {"X-Total": "3"},
        "records": [{"id": 1}, {"id": 2}],
        "page": 1,
    }
    if expected is None:  # list() is not one of the functions
        with pytest.raises(TemplateError, match="unknown name 'list'"):
            Template(template)
        return
    assert Template(template).evaluate(names) is expected
