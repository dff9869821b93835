"""Secret probes: credentials stay on their origin and never appear in any output (SPEC §2.3).

For each of 11 credential styles (bearer, api_key header / query / cookie, http_basic, OAuth2
client credentials, a literal ``X-Api-Key`` header, a literal ``access_key`` param, userinfo in
``base_url``, a secret under an ordinary header name, a credential in a JSON body), the CLI runs
as a subprocess (stdout an OS pipe) against ``hostile_servers.EchoApi`` with seven streams, one
per leak path: a 401 whose body echoes the request JSON-escaped three ways, a json_link and a
header_link next URL to a foreign origin, a 302 and a 307 to it. Each style runs a sync at DEBUG
level and a ``--discover`` (which samples the same endpoints). The secret values hold ``/``,
``+``, ``=`` and quotes, so that every escaped form differs from the plain one, and are looked
for — plain, URL-encoded, base64, JSON-escaped (``\\/``, ``\\u00XX``) — in stdout, STATE, the
catalog, stderr, and in everything the foreign server (another port) received.

A probe is one (style, run, place) check: the run's stdout, its STATE messages, its stderr, the
error line of each echo stream, and what the foreign origin received on each path. Probes are
counted only when live (the echo carried the secret, the foreign server was reached); the
figures go to ``build/hostile_secrets.json`` and into ``reliability.FIGURES``.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest
import requests
import requests_mock
from cli import ROOT, clean_env
from hostile_servers import ECHO_STYLES, EchoApi, Received, Recorder, escape
from reliability import FIGURES

from tap_restgeneric.http.credentials import Credentials
from tap_restgeneric.redaction import REDACT, Redactor, excerpt, looks_like_credential

pytest_plugins = ["reliability"]

TAP = str(ROOT / ".venv" / "bin" / "tap-restgeneric")
OUTPUT = ROOT / "build" / "hostile_secrets.json"
FORWARDS = ("link", "hlink", "redirect", "redirect307")
"""Streams whose first request leads to the foreign origin."""


def b64(text: str) -> str:
    """Standard base64 of a UTF-8 string."""
    return base64.b64encode(text.encode()).decode()


def forms(secret: str) -> set[str]:
    """Every form the secret may travel or be printed in (also once JSON-escaped inside
    a JSON body that is escaped again)."""
    return _forms(secret) | _forms(json.dumps(secret)[1:-1])


def _forms(secret: str) -> set[str]:
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    found = {secret, *encoded, *(e.lower() for e in encoded if "%" in e)}
    found |= {b64(secret), base64.urlsafe_b64encode(secret.encode()).decode()}
    found |= {json.dumps(secret)[1:-1], *(escape(secret, style) for style in ECHO_STYLES)}
    found.add(escape(secret, "all").lower())
    return found


def basic_pair(username: str, password: str) -> list[str]:
    """The Basic pair and its base64, as secrets of their own."""
    pair = f"{username}:{password}"
    return [pair, b64(pair)]


# --------------------------------------------------------------------------------------------
# Credential styles


@dataclass
class Style:
    """One way of configuring a credential: how it is configured and what gives it away."""

    name: str
    configure: Callable[[dict[str, Any], str], None]
    secrets: list[str]
    """The secret strings (their forms are looked for)."""
    issued: bool = False
    """The API's issued OAuth tokens are secrets too."""


def _auth(options: dict[str, Any]) -> Callable[[dict[str, Any], str], None]:
    def configure(cfg: dict[str, Any], base: str) -> None:
        cfg["client"]["auth"] = options

    return configure


BEARER = 'bear/Tok+en="b"=='
HEADER_KEY = 'hdr/Key+v="h"=='
QUERY_KEY = 'qry/Key+v="q"&z=='
COOKIE_KEY = "ck/Key+v=c=="
BASIC_PASSWORD = 'bas/Pw+d="b"=='
CLIENT_SECRET = 'cs/Sec+ret="o"=='
LITERAL_HEADER = 'lit/Hdr+k="x"=='
LITERAL_PARAM = 'lit/Prm+k="p"&y=='
USERINFO_PASSWORD = 'ui/Pw+d="u"=='
MARKED = 'trc/Mark+d="t"=='
BODY_TOKEN = 'bdy/Tok+n="j"=='


def _secret_setting(cfg: dict[str, Any], base: str) -> None:
    cfg["client"]["auth"] = {"type": "bearer", "token": {"secret": "probe_token"}}
    cfg["secrets"] = {"probe_token": BEARER}


def _literal_header(cfg: dict[str, Any], base: str) -> None:
    cfg["client"]["headers"] = {"X-Api-Key": LITERAL_HEADER}


def _literal_param(cfg: dict[str, Any], base: str) -> None:
    cfg["resource_defaults"]["endpoint"]["params"]["access_key"] = LITERAL_PARAM


def _userinfo(cfg: dict[str, Any], base: str) -> None:
    netloc = urlsplit(base).netloc
    cfg["client"]["base_url"] = f"http://ui-user:{quote(USERINFO_PASSWORD, safe='')}@{netloc}"


def _marked_header(cfg: dict[str, Any], base: str) -> None:
    cfg["client"]["headers"] = {"X-Trace": {"secret": "trace"}}
    cfg["secrets"] = {"trace": MARKED}


def _body_field(cfg: dict[str, Any], base: str) -> None:
    endpoint = cfg["resource_defaults"]["endpoint"]
    endpoint["method"] = "POST"
    endpoint["json"] = {"api_token": BODY_TOKEN, "query": "all"}


STYLES = [
    Style("bearer", _secret_setting, [BEARER]),
    Style(
        "api_key header",
        _auth({"type": "api_key", "name": "X-Probe", "api_key": HEADER_KEY}),
        [HEADER_KEY],
    ),
    Style(
        "api_key query",
        _auth({"type": "api_key", "name": "api_key", "api_key": QUERY_KEY, "location": "query"}),
        [QUERY_KEY],
    ),
    Style(
        "api_key cookie",
        _auth({"type": "api_key", "name": "sid", "api_key": COOKIE_KEY, "location": "cookie"}),
        [COOKIE_KEY],
    ),
    Style(
        "http_basic",
        _auth({"type": "http_basic", "username": "probe-user", "password": BASIC_PASSWORD}),
        [BASIC_PASSWORD, *basic_pair("probe-user", BASIC_PASSWORD)],
    ),
    Style(
        "oauth2_client_credentials",
        lambda cfg, base: _auth(
            {
                "type": "oauth2_client_credentials",
                "access_token_url": f"{base}/oauth/token",
                "client_id": "probe-client",
                "client_secret": CLIENT_SECRET,
            }
        )(cfg, base),
        [CLIENT_SECRET],
        issued=True,
    ),
    Style("literal header X-Api-Key", _literal_header, [LITERAL_HEADER]),
    Style("literal param access_key", _literal_param, [LITERAL_PARAM]),
    Style(
        "userinfo in base_url",
        _userinfo,
        [USERINFO_PASSWORD, *basic_pair("ui-user", USERINFO_PASSWORD)],
    ),
    Style("secret under an ordinary header name", _marked_header, [MARKED]),
    Style("credential field in a JSON body", _body_field, [BODY_TOKEN]),
]
STYLE_IDS = [s.name.replace(" ", "-") for s in STYLES]


RESOURCES: dict[str, dict[str, Any]] = {
    **{f"echo_{s}": {"path": f"echo-{s}/items", "paginator": "single_page"} for s in ECHO_STYLES},
    "link": {"path": "link/items", "paginator": "json_link"},
    "hlink": {"path": "hlink/items", "paginator": "header_link"},
    "redirect": {"path": "redirect/items", "paginator": "single_page"},
    "redirect307": {"path": "redirect307/items", "paginator": "single_page"},
}
"""One stream per leak path."""
RUNS: dict[str, tuple[str, ...]] = {
    "sync": FORWARDS,
    **{f"echo-{s}": (f"echo_{s}",) for s in ECHO_STYLES},
    "discover": tuple(RESOURCES),
}
"""The runs of each style and their streams (a 401 ends a run, so each echo runs alone)."""


def config(style: Style, api: str, streams: tuple[str, ...]) -> dict[str, Any]:
    """The streams of one run, with this style's credential."""
    cfg: dict[str, Any] = {
        "client": {"base_url": api},
        "resource_defaults": {
            "primary_key": "id",
            "endpoint": {"data_selector": "data", "params": {"per_page": 100}},
        },
        "resources": [{"name": name, "endpoint": dict(RESOURCES[name])} for name in streams],
    }
    style.configure(cfg, api)
    return cfg


# --------------------------------------------------------------------------------------------
# Runs


@dataclass
class Output:
    """One CLI run and what the servers received during it."""

    kind: str
    returncode: int
    stdout: str
    stderr: str
    api: list[Received]
    foreign: list[Received]
    echoes: list[tuple[str, str]]
    tokens: list[str]

    def scan(self) -> None:
        """Count tracebacks in the run's output (reliability figures); there must be none."""
        before = FIGURES.tracebacks
        FIGURES.scan(self.stdout, self.stderr)
        assert FIGURES.tracebacks == before, self.stderr[-4000:]

    def states(self) -> str:
        """The STATE messages on stdout."""
        return "\n".join(line for line in self.stdout.splitlines() if '"type":"STATE"' in line)

    def line_for(self, stream: str) -> str:
        """The stderr lines about a stream (its error line, its sampling warning)."""
        return "\n".join(line for line in self.stderr.splitlines() if f"'{stream}'" in line)


def run_style(style: Style, kind: str, folder: Path) -> Output:
    """Run the CLI (sync at DEBUG, or --discover) against servers of its own."""
    with Recorder() as foreign, EchoApi(foreign.url, token_prefix=f"at-{kind}-") as api:
        assert isinstance(api, EchoApi)
        path = folder / f"{kind}.json"
        path.write_text(json.dumps(config(style, api.url, RUNS[kind])))
        args = ["--discover"] if kind == "discover" else []
        debug = "LOGLEVEL" if kind == "discover" else "TAP_RESTGENERIC_LOGLEVEL"
        done = subprocess.run(
            [TAP, "--config", str(path), *args],
            check=False,
            capture_output=True,
            text=True,
            env=clean_env(**{debug: "DEBUG"}),
            timeout=120,
        )
        return Output(
            kind,
            done.returncode,
            done.stdout,
            done.stderr,
            api.requests(),
            foreign.requests(),
            list(api.sent),
            list(api.tokens),
        )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Output]:
    """Every style's runs, two at a time."""
    jobs = [(s, kind) for s in STYLES for kind in RUNS]
    folders = {(s.name, kind): tmp_path_factory.mktemp("hostile") for s, kind in jobs}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            (s.name, kind): pool.submit(run_style, s, kind, folders[(s.name, kind)])
            for s, kind in jobs
        }
        return {key: future.result() for key, future in futures.items()}


# --------------------------------------------------------------------------------------------
# Figures


@dataclass
class Probes:
    """Secret probes and what they found."""

    probes: int = 0
    leaks: int = 0
    foreign_probes: int = 0
    foreign_credentials: int = 0
    styles: set[str] = field(default_factory=set)
    details: list[str] = field(default_factory=list)

    def check(self, style: str, where: str, text: str, secrets: list[str]) -> list[str]:
        """One probe: the forms of ``secrets`` found in ``text`` (each is a leak)."""
        self.probes += 1
        self.styles.add(style)
        found = sorted({f for s in secrets for f in forms(s) if f in text})
        if found:
            self.leaks += 1
            detail = f"{style}: a secret in {where} ({len(found)} forms)"
            self.details.append(detail)
            FIGURES.leak(detail)
        return found

    def check_foreign(
        self, style: str, where: str, received: list[Received], secrets: list[str]
    ) -> list[str]:
        """One probe of what the foreign origin received on one path."""
        self.foreign_probes += 1
        found = self.check(style, where, "\n\n".join(r.text() for r in received), secrets)
        self.foreign_credentials += bool(found)
        return found

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "styles": len(self.styles),
            "secret_probes": self.probes,
            "leaks": self.leaks,
            "foreign_origin_probes": self.foreign_probes,
            "credentials_received_by_foreign_origin": self.foreign_credentials,
            "leak_details": self.details,
        }


PROBES = Probes()


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[None]:
    """Write build/hostile_secrets.json (and reliability.json) once the probes are done."""
    yield
    if PROBES.probes:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(json.dumps(PROBES.as_dict(), indent=2) + "\n")
        FIGURES.write()


def secrets_of(style: Style, output: Output) -> list[str]:
    """The style's secrets, plus the tokens the API issued during the run."""
    return [*style.secrets, *(output.tokens if style.issued else [])]


def carried(received: list[Received], secrets: list[str]) -> bool:
    """Whether the configured API received the credential (in any form)."""
    text = "\n\n".join(r.text() for r in received)
    return any(f in text for s in secrets for f in forms(s))


# --------------------------------------------------------------------------------------------
# The probes


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_forwarded_requests_carry_no_secret(
    style: Style, outputs: dict[tuple[str, str], Output]
) -> None:
    """Sync at DEBUG: json_link, header_link, 302 and 307 to the foreign origin are followed
    without credentials; stdout, STATE and stderr hold no secret."""
    out = outputs[(style.name, "sync")]
    secrets = secrets_of(style, out)
    out.scan()
    context = f"exit {out.returncode}\n{out.stderr[-4000:]}"
    assert out.returncode == 0, context
    # live: the API got the credential, the foreign origin was reached on every path, and
    # every forwarding stream wrote its records
    assert carried([r for r in out.api if r.path.startswith("/link/")], secrets)
    assert {r.path.split("/")[1] for r in out.foreign} == set(FORWARDS), context
    records = [json.loads(x) for x in out.stdout.splitlines() if '"type":"RECORD"' in x]
    assert {(m["stream"], m["record"]["id"]) for m in records} == {
        *((f, 1) for f in ("link", "hlink")),
        *((f, 2) for f in FORWARDS),
    }, context

    leaks = PROBES.check(style.name, "sync stdout", out.stdout, secrets)
    leaks += PROBES.check(style.name, "sync STATE", out.states(), secrets)
    leaks += PROBES.check(style.name, "sync stderr (DEBUG)", out.stderr, secrets)
    for path in FORWARDS:
        received = [r for r in out.foreign if r.path.startswith(f"/{path}/")]
        leaks += PROBES.check_foreign(style.name, f"foreign origin via {path}", received, secrets)
    assert not leaks, PROBES.details


@pytest.mark.parametrize("echo", ECHO_STYLES)
@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_echoed_401_shows_no_secret(
    style: Style, echo: str, outputs: dict[tuple[str, str], Output]
) -> None:
    """A 401 whose body echoes the request JSON-escaped: one masked error line, exit 1."""
    out = outputs[(style.name, f"echo-{echo}")]
    secrets = secrets_of(style, out)
    out.scan()
    context = f"exit {out.returncode}\n{out.stderr[-4000:]}"
    assert out.returncode == 1, context
    # live: the echo carried the credential within what an error line shows
    assert len(out.echoes) >= 1, context
    for _, body in out.echoes:
        assert any(f in body[:300] for s in secrets for f in forms(s)), body[:300]
    line = out.line_for(f"echo_{echo}")
    assert "status 401" in line, context
    leaks = PROBES.check(style.name, f"401 echo error line ({echo})", line, secrets)
    leaks += PROBES.check(style.name, f"401 echo stdout/STATE ({echo})", out.stdout, secrets)
    leaks += PROBES.check(style.name, f"401 echo stderr, DEBUG ({echo})", out.stderr, secrets)
    assert not leaks, PROBES.details


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_discover_leaks_no_secret(style: Style, outputs: dict[tuple[str, str], Output]) -> None:
    """--discover samples every endpoint: catalog, warnings and the foreign origin stay clean."""
    out = outputs[(style.name, "discover")]
    secrets = secrets_of(style, out)
    out.scan()
    assert out.returncode == 0, out.stderr[-4000:]
    catalog = json.loads(out.stdout)
    assert {s["tap_stream_id"] for s in catalog["streams"]} >= {
        "link",
        *(f"echo_{e}" for e in ECHO_STYLES),
    }
    leaks = PROBES.check(style.name, "catalog", out.stdout, secrets)
    leaks += PROBES.check(style.name, "discover stderr (DEBUG)", out.stderr, secrets)
    for echo in ECHO_STYLES:
        line = out.line_for(f"echo_{echo}")
        if line:
            leaks += PROBES.check(style.name, f"sampling warning ({echo})", line, secrets)
    for path in FORWARDS:
        received = [r for r in out.foreign if r.path.startswith(f"/{path}/")]
        if received:
            leaks += PROBES.check_foreign(
                style.name, f"foreign origin via {path} (discover)", received, secrets
            )
    assert not leaks, PROBES.details


def test_ordinary_values_stay_readable(outputs: dict[tuple[str, str], Output]) -> None:
    """Only credentials are masked: per_page=100 and the paths stay in the error lines."""
    out = outputs[("literal param access_key", "echo-php")]
    line = out.line_for("echo_php")
    assert "per_page=100" in line
    assert "access_key=***" in line
    assert "/echo-php/items" in line


def test_userinfo_goes_as_basic_to_its_own_origin_only(
    outputs: dict[tuple[str, str], Output],
) -> None:
    out = outputs[("userinfo in base_url", "sync")]
    expected = "Basic " + b64(f"ui-user:{USERINFO_PASSWORD}")
    first = [r for r in out.api if r.path.startswith("/link/")]
    assert first and all(r.headers.get("Authorization") == expected for r in first)
    assert not any("Authorization" in r.headers for r in out.foreign)
    assert "ui-user" not in out.stderr.replace("ui-user:***", "")


def test_foreign_origin_gets_only_portable_headers(
    outputs: dict[tuple[str, str], Output],
) -> None:
    """Whatever the style, the foreign origin sees no auth, cookie, configured header or body."""
    allowed = {"host", "user-agent", "accept", "accept-encoding", "connection", "content-length"}
    for (name, _), out in outputs.items():
        for received in out.foreign:
            assert {h.lower() for h in received.headers} <= allowed, (name, received.headers)
            assert not received.body, (name, received.path)
            assert "access_key" not in received.query and "api_key" not in received.query


def test_figures_reach_the_report() -> None:
    """Runs last in this module: every probe ran and nothing leaked."""
    if PROBES.probes == 0:
        pytest.skip("the probe tests did not run")
    assert PROBES.leaks == 0 and PROBES.foreign_credentials == 0, PROBES.details
    assert len(PROBES.styles) == len(STYLES)


# --------------------------------------------------------------------------------------------
# Units: the name rule, escaped forms, scoping of a redirect chain


@pytest.mark.parametrize(
    "name",
    [
        "X-Api-Key",
        "access_key",
        "apiKey",
        "APIKEY",
        "X-Auth-Token",
        "Authorization",
        "Cookie",
        "sessionId",
        "client_secret",
        "sig",
        "X-Amz-Signature",
        "password",
        "refresh_token",
    ],
)
def test_credential_names(name: str) -> None:
    assert looks_like_credential(name)


@pytest.mark.parametrize(
    "name", ["per_page", "limit", "page", "author", "keyword", "fields", "sort", "q", "since"]
)
def test_ordinary_names(name: str) -> None:
    assert not looks_like_credential(name)


SPECIAL = 'sp/ec+ial="v"&\\é😀=='


@pytest.mark.parametrize(
    "shown",
    [
        SPECIAL,
        json.dumps(SPECIAL),
        json.dumps(SPECIAL).replace("/", "\\/"),
        json.dumps(SPECIAL, ensure_ascii=False),
        "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in SPECIAL),
        json.dumps(json.dumps({"k": SPECIAL})),
        quote(SPECIAL, safe=""),
        quote(SPECIAL, safe="").lower(),
        quote_plus(SPECIAL),
        b64(SPECIAL),
        b64("xy" + SPECIAL + "tail"),
        f"https://user:{quote(SPECIAL, safe='')}@api.example.com/x",
    ],
    ids=[
        "plain",
        "json",
        "json-slash",
        "json-utf8",
        "u-escapes",
        "double-json",
        "quote",
        "quote-lower",
        "quote_plus",
        "base64",
        "base64-inside",
        "userinfo",
    ],
)
def test_every_form_is_masked(shown: str) -> None:
    redactor = Redactor()
    redactor.add(SPECIAL)
    masked = redactor(f"before {shown} after")
    for form in forms(SPECIAL) | {SPECIAL, b64(SPECIAL)}:
        assert form not in masked, (form, masked)
    assert "ial" not in masked.replace("***", "") or shown.startswith("https"), masked


def test_userinfo_in_any_url_is_masked() -> None:
    assert Redactor()("GET http://joe:pw@h:1/x and http:\\/\\/joe:pw@h") == (
        "GET http://***@h:1/x and http:\\/\\/***@h"
    )


def test_excerpt_of_a_huge_body_is_redacted_and_short() -> None:
    REDACT.add(SPECIAL)
    body = " " * 100_000 + json.dumps({"k": SPECIAL}).replace("/", "\\/") + "x" * 1_000_000
    shown = excerpt(body)
    assert len(shown) <= 301 and "***" in shown and "ial" not in shown


def test_redirect_back_from_a_foreign_origin_restores_the_configured_request() -> None:
    """api → foreign (stripped) → api again: the configured header comes back, auth too."""
    session = requests.Session()
    auth = type("Auth", (), {"auth_params": {}, "__call__": lambda self, r: r})()
    creds = Credentials(auth, ["https://api.example.com"], [{"X-Api-Key": "k-123456"}])
    first = session.prepare_request(
        requests.Request(
            "POST", "https://api.example.com/a", headers={"X-Api-Key": "k-123456"}, json={"a": 1}
        )
    )
    first = creds.apply(first)
    away = creds.follow(first, "https://cdn.example.net/b?access_key=k-123456&page=2", 307)
    assert "X-Api-Key" not in away.headers and away.body is None
    assert away.url == "https://cdn.example.net/b?page=2"
    back = creds.follow(away, "https://api.example.com/c", 307)
    assert back.headers["X-Api-Key"] == "k-123456" and back.body == b'{"a": 1}'
    with requests_mock.Mocker() as m:
        m.post("https://cdn.example.net/b", text="{}")
        session.send(away)
        assert "X-Api-Key" not in m.last_request.headers


def test_configured_values_are_secrets_by_name_only() -> None:
    redactor = Redactor()
    redactor.add_named(
        {
            "X-Api-Key": "lit-key-1",
            "Authorization": "Bearer tok-abc",
            "Cookie": "sid=ck-123; lang=en",
            "per_page": 100,
            "author": "ann-smith",
            "session_id": {"type": "resolve", "resource": "parents", "field": "id"},
            "json": {"filter": {"api_token": "body-tok"}},
        }
    )
    masked = redactor(
        "lit-key-1 tok-abc ck-123 body-tok | Bearer 100 ann-smith resolve parents sid lang"
    )
    assert masked == "*** *** *** *** | Bearer 100 ann-smith resolve parents sid lang"
