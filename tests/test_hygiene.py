"""Secret hygiene (SPEC §2.3) and TLS: known secrets never show, credentials stay on their host.

A small API on 127.0.0.1 (a tiny ``http.server``) checks five kinds of credentials whose values
are unique strings: an api_key in a header and in the query, a bearer token, HTTP Basic
user/password (the password from an environment variable) and OAuth2 client credentials with a
token endpoint that issues a token of its own. Every CLI path runs against it at DEBUG level
(``TAP_RESTGENERIC_LOGLEVEL`` and ``LOGLEVEL``), and so do its failures: a 401 whose body echoes
the credentials, 5xx until the retries run out, a config error. None of the secrets — raw,
URL-encoded, base64, or as the Basic ``user:password`` — may appear in stdout (records and
their metadata, STATE, the catalog, ``--about``) or stderr (every log line). Next links and
redirects to another host get no credentials. TLS verification is on by default and
``ca_bundle`` names the CA bundle to trust, checked against a self-signed HTTPS server.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from cli import clean_env
from local_server import LocalHandler, LocalServer, Reply
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.streams import RESTStream

from tap_restgeneric.tap import TapRestGeneric

TAP = [sys.executable, "-m", "tap_restgeneric.tap"]

HEADER_KEY = "hdr-K3y/7+Q=zeta"
QUERY_KEY = "qry K3y/8+R=&eta"
BEARER_TOKEN = "brr-T0k3n.9f8e7d-bearer"
BASIC_USER = "usr-4lice@corp.example"
BASIC_PASSWORD = "pw-S3cr3t:!x y"
CLIENT_ID = "rg-hygiene-client"
CLIENT_SECRET = "cs-0auth/S3cret+1"
ISSUED_TOKEN = "iss-Acc3ss.T0ken-5"
WRONG_TYPED = "wt-L1st-S3cret-77"
PASSWORD_ENV = "RG_HYGIENE_PASSWORD"

SCHEMES = ("header", "query", "bearer", "basic", "oauth")
RAW_SECRETS = (
    HEADER_KEY,
    QUERY_KEY,
    BEARER_TOKEN,
    BASIC_USER,
    BASIC_PASSWORD,
    CLIENT_SECRET,
    ISSUED_TOKEN,
    WRONG_TYPED,
)
CA_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def b64(text: str) -> str:
    """Standard base64 of a UTF-8 string."""
    return base64.b64encode(text.encode()).decode()


def forms(value: str) -> set[str]:
    """A secret as it may travel: raw, URL-encoded (both styles), base64."""
    return {value, quote(value, safe=""), quote_plus(value), b64(value)}


BASIC_PAIR = f"{BASIC_USER}:{BASIC_PASSWORD}"
LEAKS = frozenset(
    {form for secret in RAW_SECRETS for form in forms(secret)} | {BASIC_PAIR, b64(BASIC_PAIR)}
)
"""Every string that would give one of the secrets away."""


def leaked(text: str) -> list[str]:
    """The secret forms found in ``text``."""
    return sorted(s for s in LEAKS if s in text)


# --- the API --------------------------------------------------------------------------------------


def authorized(scheme: str, headers: dict[str, str], query: dict[str, list[str]]) -> bool:
    """Whether a request carries the right credentials for ``scheme``."""
    authorization = headers.get("authorization")
    return {
        "header": headers.get("x-api-key") == HEADER_KEY,
        "query": query.get("api_key") == [QUERY_KEY],
        "bearer": authorization == f"Bearer {BEARER_TOKEN}",
        "basic": authorization == f"Basic {b64(BASIC_PAIR)}",
        "oauth": authorization == f"Bearer {ISSUED_TOKEN}",
        "none": True,
    }.get(scheme, False)


class _Handler(LocalHandler):
    """Routes ``/<mode>/<scheme>/items`` and ``/oauth/token``; records every request."""

    def do_GET(self) -> None:
        api: Api = self.server.owner
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = self.read_body().decode("utf-8", "replace")
        with api.lock:
            api.requests.append(
                {"method": self.command, "path": self.path, "headers": headers, "body": body}
            )
        echo = {
            "authorization": headers.get("authorization"),
            "x-api-key": headers.get("x-api-key"),
            "query": parts.query,
        }
        if parts.path == "/oauth/token":
            form = parse_qs(body)
            if form.get("client_id") == [CLIENT_ID] and form.get("client_secret") == [
                CLIENT_SECRET
            ]:
                self.reply(200, {"access_token": ISSUED_TOKEN, "expires_in": 3600})
            else:
                self.reply(401, {"error": "invalid_client", "received": body})
            return
        segments = parts.path.strip("/").split("/")
        if len(segments) != 3 or segments[2] != "items":
            self.reply(404, {"error": "not found"})
            return
        mode, scheme, _ = segments
        if mode == "deny":
            self.reply(401, {"error": "unauthorized", "received": echo})
        elif mode == "fail":
            self.reply(503, {"error": "unavailable", "received": echo})
        elif mode == "redirect":
            self.reply(302, {}, {"Location": f"{api.other}/ok/none/items?via=redirect"})
        elif not authorized(scheme, headers, query):
            self.reply(401, {"error": "unauthorized", "received": echo})
        else:
            page = int(query.get("page", ["1"])[0])
            via = "hop" if mode == "hop" else query.get("via", [""])[0]
            host = api.other if mode == "hop" else api.url
            link = f"{host}/ok/{'none' if mode == 'hop' else scheme}/items?page=2&via={via}"
            nxt = link if page == 1 else None
            rows = [
                {"id": n, "name": f"item {n}", "updated_at": f"2024-02-0{n}T00:00:00Z"}
                for n in range(3 * page - 2, 3 * page + 1)
            ]
            self.reply(200, {"data": rows, "next": nxt})

    do_POST = do_GET

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        content = {"Content-Type": "application/json", **(headers or {})}
        self.send_reply(Reply(status, json.dumps(body).encode(), content))


class Api(LocalServer):
    """The test API on a free loopback port, over TLS when given a server context."""

    handler = _Handler
    poll_interval = 0.05

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.other = ""
        self.tls = tls
        self.bind()

    def bind(self, port: int = 0) -> int:
        """Listen on a free port, over TLS when given a server context."""
        port = super().bind(port)
        if self.tls is not None and self._httpd is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        return port

    @property
    def url(self) -> str:
        """The base URL, ``https://`` over TLS."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def sent(self) -> str:
        """Everything the API received (paths, headers, bodies) as one text."""
        with self.lock:
            return json.dumps(self.requests)


def auth(scheme: str, base_url: str) -> dict[str, Any]:
    """The auth config of a scheme, every secret given as a ``{"secret": NAME}`` reference."""
    return {
        "header": {
            "type": "api_key",
            "name": "X-Api-Key",
            "api_key": {"secret": "header_key"},
            "location": "header",
        },
        "query": {
            "type": "api_key",
            "name": "api_key",
            "api_key": {"secret": "query_key"},
            "location": "query",
        },
        "bearer": {"type": "bearer", "token": {"secret": "bearer_token"}},
        "basic": {
            "type": "http_basic",
            "username": {"secret": "basic_user"},
            "password": {"secret": PASSWORD_ENV.lower()},
        },
        "oauth": {
            "type": "oauth2_client_credentials",
            "access_token_url": f"{base_url}/oauth/token",
            "client_id": CLIENT_ID,
            "client_secret": {"secret": "client_secret"},
        },
    }[scheme]


def config(
    base_url: str, mode: str = "ok", schemes: tuple[str, ...] = SCHEMES, **settings: Any
) -> dict[str, Any]:
    """One incremental resource per auth scheme, paged by next links, tiny retries."""
    resources = [
        {
            "name": f"{scheme}_items",
            "primary_key": "id",
            "endpoint": {
                "path": f"{mode}/{scheme}/items",
                "auth": auth(scheme, base_url),
                "data_selector": "data",
                "paginator": {"type": "json_link", "next_url_path": "next"},
                "incremental": {
                    "cursor_path": "updated_at",
                    "initial_value": "2024-01-01T00:00:00Z",
                },
                "error_handler": {
                    "max_retries": 1,
                    "backoff_factor": 0.01,
                    "max_retry_delay": 0.05,
                },
            },
        }
        for scheme in schemes
    ]
    return {
        "client": {"base_url": base_url},
        "resources": resources,
        "secrets": {
            "header_key": HEADER_KEY,
            "query_key": QUERY_KEY,
            "bearer_token": BEARER_TOKEN,
            "basic_user": BASIC_USER,
            "client_secret": CLIENT_SECRET,
        },
        **settings,
    }


# --- running the CLI ------------------------------------------------------------------------------

DEBUG_ENVS = {"tap-loglevel": "TAP_RESTGENERIC_LOGLEVEL", "loglevel": "LOGLEVEL"}


@dataclass
class Output:
    """What one CLI run wrote."""

    name: str
    returncode: int
    stdout: str
    stderr: str

    def messages(self) -> list[dict[str, Any]]:
        """The Singer messages on stdout."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """The messages of one type (RECORD, STATE, SCHEMA)."""
        return [m for m in self.messages() if m.get("type") == kind]

    def errors(self) -> list[str]:
        """The messages of the ERROR log lines."""
        return [
            line.split(" | ", 3)[-1].strip()
            for line in self.stderr.splitlines()
            if " | ERROR " in line
        ]

    def context(self) -> str:
        """The end of stderr, for assertion messages."""
        return f"{self.name}: exit {self.returncode}\n{self.stderr[-3000:]}"


def cli_env(debug: str | None = None, **extra: str) -> dict[str, str]:
    """A clean environment with the Basic password as an environment variable."""
    env = clean_env(**{PASSWORD_ENV: BASIC_PASSWORD, **extra})
    if debug is not None:
        env[DEBUG_ENVS[debug]] = "DEBUG"
    return env


def run(
    name: str,
    folder: Path,
    cfg: dict[str, Any] | None,
    *args: str,
    env: dict[str, str],
    files: dict[str, Any] | None = None,
) -> Output:
    """Run the tap CLI in ``folder`` with ``cfg`` as --config and extra files (catalog, state)."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [*TAP]
    if cfg is not None:
        (folder / "config.json").write_text(json.dumps(cfg))
        command += ["--config", str(folder / "config.json")]
    for flag, content in (files or {}).items():
        path = folder / f"{flag.strip('-')}.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        command += [flag, str(path)]
    done = subprocess.run(
        [*command, *args], check=False, capture_output=True, text=True, env=env, timeout=120
    )
    return Output(name, done.returncode, done.stdout, done.stderr)


def assert_clean(output: Output) -> None:
    """No traceback, no secret in any form, every api_key in a URL masked."""
    assert "Traceback" not in output.stderr, output.context()
    for where, text in (("stdout", output.stdout), ("stderr", output.stderr)):
        assert not leaked(text), f"{output.name}: {where} contains {leaked(text)}"
    shown = re.findall(r"api_key=([^&\s\"',)]*)", output.stderr)
    assert all(value == "***" for value in shown), f"{output.name}: api_key={shown}"


PATHS: dict[str, list[str]] = {
    "about": ["--about"],
    "about-json": ["--about", "--format", "json"],
    "about-markdown": ["--about", "--format", "markdown"],
    "discover": ["--discover"],
    "sync": [],
    "test": ["--test"],
    "test-schema": ["--test=schema"],
}
STATE_IN = {
    "bookmarks": {
        "bearer_items": {
            "replication_key": "updated_at",
            "replication_key_value": "2024-02-02T00:00:00Z",
        }
    }
}


@pytest.fixture(scope="module")
def other() -> Iterator[Api]:
    """Another host (another origin): next links and redirects point here."""
    with Api() as api:
        yield api


@pytest.fixture(scope="module")
def api(other: Api) -> Iterator[Api]:
    with Api() as server:
        server.other = other.url
        yield server


@pytest.fixture(scope="module")
def outputs(api: Api, other: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Output]:
    """Every CLI path and failure, run once (in parallel) for the whole module."""
    root = tmp_path_factory.mktemp("hygiene")
    good = config(api.url)
    jobs: list[tuple[str, dict[str, Any] | None, list[str], dict[str, str]]] = []
    for debug in DEBUG_ENVS:
        for path, args in PATHS.items():
            jobs.append((f"{path}/{debug}", good, args, cli_env(debug)))
        wrong = copy.deepcopy(good)
        wrong["secrets"]["bearer_token"] = [WRONG_TYPED]
        wrong["secrets"]["header_key"] = {"value": HEADER_KEY}
        jobs.append((f"config-error/{debug}", wrong, [], cli_env(debug)))
    debugs = list(DEBUG_ENVS)
    for i, scheme in enumerate(SCHEMES):
        debug = debugs[i % 2]
        jobs.append(
            (f"401-{scheme}/{debug}", config(api.url, "deny", (scheme,)), [], cli_env(debug))
        )
        if scheme in ("query", "basic", "oauth"):
            cfg = config(api.url, "fail", (scheme,))
            jobs.append((f"5xx-{scheme}/{debug}", cfg, [], cli_env(debugs[1 - i % 2])))
    for mode in ("hop", "redirect"):
        jobs.append((f"{mode}/loglevel", config(api.url, mode), [], cli_env("loglevel")))

    def work(job: tuple[str, dict[str, Any] | None, list[str], dict[str, str]]) -> Output:
        name, cfg, args, env = job
        return run(name, root / name.replace("/", "-"), cfg, *args, env=env)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = {o.name: o for o in pool.map(work, jobs)}
        # a sync with the discovered catalog and an input state, under both debug settings
        later = []
        for debug in DEBUG_ENVS:
            catalog = results[f"discover/{debug}"].stdout
            files = {"--catalog": catalog, "--state": STATE_IN}
            name = f"sync-catalog-state/{debug}"
            later.append(
                pool.submit(
                    run, name, root / name.replace("/", "-"), good, env=cli_env(debug), files=files
                )
            )
        results |= {f.result().name: f.result() for f in later}
    return results


def test_every_run_is_free_of_secrets(outputs: dict[str, Output]) -> None:
    """stdout and stderr of every path and failure: no secret in any form, no traceback."""
    assert len(outputs) == 28
    for output in outputs.values():
        assert_clean(output)


@pytest.mark.parametrize("debug", sorted(DEBUG_ENVS))
@pytest.mark.parametrize("path", [*sorted(PATHS), "sync-catalog-state"])
def test_cli_path_succeeds_at_debug_level(
    path: str, debug: str, outputs: dict[str, Output]
) -> None:
    output = outputs[f"{path}/{debug}"]
    assert output.returncode == 0, output.context()
    assert_clean(output)
    if not path.startswith("about"):
        assert "| DEBUG" in output.stderr, f"{output.name}: no DEBUG log lines"


@pytest.mark.parametrize("debug", sorted(DEBUG_ENVS))
@pytest.mark.parametrize("path", ["sync", "sync-catalog-state"])
def test_records_state_and_metadata_hold_no_secrets(
    path: str, debug: str, outputs: dict[str, Output], api: Api
) -> None:
    """Every stream synced (so every credential was used), its messages free of secrets."""
    output = outputs[f"{path}/{debug}"]
    records = output.of_type("RECORD")
    assert {m["stream"] for m in records} == {f"{s}_items" for s in SCHEMES}, output.context()
    assert all("time_extracted" in m for m in records)
    states = output.of_type("STATE")
    assert states and "bookmarks" in states[-1]["value"], output.context()
    for message in [*records, *states, *output.of_type("SCHEMA")]:
        assert not leaked(json.dumps(message)), message
    for scheme in SCHEMES:
        assert any(
            authorized(scheme, r["headers"], parse_qs(urlsplit(r["path"]).query))
            for r in api.requests
            if f"/ok/{scheme}/" in r["path"]
        ), f"the {scheme} credentials were never sent"


@pytest.mark.parametrize("debug", sorted(DEBUG_ENVS))
def test_catalog_holds_no_secrets(debug: str, outputs: dict[str, Output]) -> None:
    catalog = json.loads(outputs[f"discover/{debug}"].stdout)
    assert {s["tap_stream_id"] for s in catalog["streams"]} == {f"{s}_items" for s in SCHEMES}
    assert not leaked(json.dumps(catalog))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_rejected_credentials_fail_with_one_masked_line(
    scheme: str, outputs: dict[str, Output]
) -> None:
    """A 401 whose body echoes the credentials: one line, exit 1, the echo masked."""
    [output] = [o for name, o in outputs.items() if name.startswith(f"401-{scheme}/")]
    assert output.returncode == 1, output.context()
    assert_clean(output)
    failures = [e for e in output.errors() if "failed with status 401" in e]
    assert len(failures) == 1, output.context()
    assert "***" in failures[0], failures[0]  # the echoed credentials, masked
    if scheme == "query":
        url = r"GET http://127\.0\.0\.1:\d+/deny/query/items\?api_key=\*\*\* failed"
        assert re.search(url, failures[0]), failures[0]


@pytest.mark.parametrize("scheme", ["query", "basic", "oauth"])
def test_exhausted_5xx_retries_fail_with_one_masked_line(
    scheme: str, outputs: dict[str, Output]
) -> None:
    [output] = [o for name, o in outputs.items() if name.startswith(f"5xx-{scheme}/")]
    assert output.returncode == 1, output.context()
    assert_clean(output)
    failures = [e for e in output.errors() if "failed after 1 retries" in e]
    assert len(failures) == 1, output.context()
    assert "status 503" in failures[0]
    if scheme == "query":
        assert "api_key=***" in failures[0]
        assert "api_key=***" in output.stderr.split(failures[0])[0], "retry warning unmasked"


@pytest.mark.parametrize("debug", sorted(DEBUG_ENVS))
def test_wrong_typed_secret_is_a_config_error_without_its_value(
    debug: str, outputs: dict[str, Output]
) -> None:
    output = outputs[f"config-error/{debug}"]
    assert output.returncode == 1, output.context()
    assert output.stdout == ""
    assert_clean(output)
    lines = output.errors()
    assert lines[-1] == "Config validation failed", output.context()
    bearer = "at config['resources'][2]['endpoint']['auth']['token']"
    header = "at config['resources'][0]['endpoint']['auth']['api_key']"
    assert any(line.startswith("wrong type") and line.endswith(bearer) for line in lines), lines
    assert any(line.startswith("wrong type") and line.endswith(header) for line in lines), lines


@pytest.mark.parametrize("mode", ["hop", "redirect"])
def test_credentials_never_go_to_another_host(
    mode: str, outputs: dict[str, Output], api: Api, other: Api
) -> None:
    """Next links and redirects to another origin are followed without any credentials."""
    output = outputs[f"{mode}/loglevel"]
    assert output.returncode == 0, output.context()
    assert_clean(output)
    streams = {m["stream"] for m in output.of_type("RECORD")}
    assert streams == {f"{s}_items" for s in SCHEMES}, output.context()
    with other.lock:
        received = [r for r in other.requests if f"via={mode}" in r["path"]]
    expected = len(SCHEMES) * (1 if mode == "hop" else 2)  # hop: page 2; redirect: pages 1, 2
    assert len(received) == expected, [r["path"] for r in received]
    assert not leaked(other.sent()), leaked(other.sent())
    assert not any("authorization" in r["headers"] or "x-api-key" in r["headers"] for r in received)
    assert not any("api_key" in r["path"] for r in received)
    for scheme in SCHEMES:  # while the configured host got each scheme's credentials
        assert any(
            authorized(scheme, r["headers"], parse_qs(urlsplit(r["path"]).query))
            for r in api.requests
            if r["path"].startswith(f"/{mode}/{scheme}/")
        ), scheme


# --- TLS --------------------------------------------------------------------------------------


def streams_verify(cfg: dict[str, Any]) -> set[Any]:
    """The ``verify`` setting of every stream's requests session, built in-process."""
    tap = TapRestGeneric(config=cfg, validate_config=True)
    streams = [s for s in tap.streams.values() if isinstance(s, RESTStream)]
    assert len(streams) == len(tap.streams)
    return {stream.requests_session.verify for stream in streams}


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CA bundle from the environment: requests' own default applies."""
    for name in CA_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(PASSWORD_ENV, BASIC_PASSWORD)


@pytest.mark.usefixtures("no_ca_env")
def test_tls_verification_is_on_by_default() -> None:
    assert streams_verify(config("https://api.example.com")) == {True}


@pytest.mark.usefixtures("no_ca_env")
def test_ca_bundle_is_the_session_verify_path(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    verify = streams_verify(config("https://api.example.com", ca_bundle=str(bundle)))
    assert verify == {str(bundle)}


@pytest.mark.usefixtures("no_ca_env")
@pytest.mark.parametrize("bundle", [5, True, ["/etc/ssl/ca.pem"], {"path": "x"}, "/no/such/ca.pem"])
def test_bad_ca_bundle_is_a_config_error(bundle: Any) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TapRestGeneric(config=config("https://api.example.com", ca_bundle=bundle))
    lines = [e for e in caught.value.errors if "ca_bundle" in e]
    assert len(lines) == 1, caught.value.errors
    assert lines[0].endswith(" at config['ca_bundle']"), lines


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with openssl (skip without it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    done = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        pytest.skip(f"openssl could not make a self-signed certificate: {done.stderr[-500:]}")
    return cert, key


@pytest.fixture(scope="module")
def https_api(certificate: tuple[Path, Path]) -> Iterator[Api]:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with Api(tls=context) as server:
        server.other = server.url
        yield server


def tls_env() -> dict[str, str]:
    env = cli_env()
    for name in CA_ENV:
        env.pop(name, None)
    return env


def test_self_signed_server_fails_by_default_with_one_line(https_api: Api, tmp_path: Path) -> None:
    output = run("tls-default", tmp_path, config(https_api.url, schemes=("bearer",)), env=tls_env())
    assert output.returncode == 1, output.context()
    assert_clean(output)
    failures = [e for e in output.errors() if "SSLError" in e or "CERTIFICATE_VERIFY" in e]
    assert len(failures) == 1, output.context()
    assert "failed after 1 retries" in failures[0]
    assert output.errors()[-1] == failures[0], output.context()
    assert not output.of_type("RECORD")


def test_self_signed_server_is_trusted_with_its_ca_bundle(
    https_api: Api, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cfg = config(https_api.url, schemes=("bearer", "basic"), ca_bundle=str(certificate[0]))
    output = run("tls-ca-bundle", tmp_path, cfg, env=tls_env())
    assert output.returncode == 0, output.context()
    assert_clean(output)
    assert {m["stream"] for m in output.of_type("RECORD")} == {"bearer_items", "basic_items"}


def test_oauth_token_endpoint_is_trusted_with_the_ca_bundle(
    https_api: Api, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cfg = config(https_api.url, schemes=("oauth",), ca_bundle=str(certificate[0]))
    output = run("tls-oauth", tmp_path, cfg, env=tls_env())
    assert_clean(output)
    assert output.returncode == 0, output.context()
    assert {m["stream"] for m in output.of_type("RECORD")} == {"oauth_items"}
