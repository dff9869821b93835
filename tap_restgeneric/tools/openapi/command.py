"""The ``import-openapi`` subcommand: read, plan, check with ``validate``, write, report."""

from __future__ import annotations

import argparse
import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from tap_restgeneric.cli import read_config_file
from tap_restgeneric.config.fields import MAX_NODES, count_nodes
from tap_restgeneric.config.raw import ResourceConfig, RestApiConfig
from tap_restgeneric.config.resources import MAX_RESOURCES
from tap_restgeneric.tools.common import ToolError, err
from tap_restgeneric.tools.importer import PLACEHOLDER
from tap_restgeneric.tools.openapi.auth import guess_auth
from tap_restgeneric.tools.openapi.check import PAGES, Verdict, check, table
from tap_restgeneric.tools.openapi.loading import Document, is_url, load
from tap_restgeneric.tools.openapi.operations import Operation, operations
from tap_restgeneric.tools.openapi.refs import Refs
from tap_restgeneric.tools.openapi.report import Report
from tap_restgeneric.tools.openapi.resources import Planned, cap, plan_all
from tap_restgeneric.tools.openapi.schemas import Memo, json_schema
from tap_restgeneric.tools.validate import check_config


def base_url(document: Document, given: str | None) -> tuple[str, str]:
    """The API's base URL and where it came from; ToolError when none is absolute.

    What comes from the document's own URL keeps its scheme, host and path only: a user and
    password (or a token in the query) used to fetch the document are not written into the
    config (the API's credentials belong in ``auth`` and ``secrets``).
    """
    if given:
        return given, "--base-url"
    content = document.content
    doc = urlsplit(document.uri)
    doc = doc._replace(netloc=doc.netloc.rpartition("@")[2], query="", fragment="")
    if document.swagger:
        host, base = content.get("host"), str(content.get("basePath") or "")
        schemes = content.get("schemes") or []
        fallback = doc.scheme if is_url(document.uri) else "https"
        scheme = "https" if "https" in schemes else (schemes or [fallback])[0]
        if host:
            return f"{scheme}://{host}{base}", "the document's host and basePath"
        if is_url(document.uri):
            return f"{doc.scheme}://{doc.netloc}{base}", "basePath on the document's host"
    else:
        servers = content.get("servers") or []
        if servers and isinstance(servers[0], dict) and isinstance(servers[0].get("url"), str):
            url = servers[0]["url"]
            for name, var in (servers[0].get("variables") or {}).items():
                url = url.replace("{" + name + "}", str(var.get("default", "")))
            if urlsplit(url).scheme in ("http", "https"):
                return url, "the document's first server"
            if is_url(document.uri):
                return urljoin(doc.geturl(), url), f"server {url!r} on the document's host"
        elif is_url(document.uri):
            return f"{doc.scheme}://{doc.netloc}", "no servers: the document's host"
    raise ToolError("the document names no absolute server URL: give --base-url URL")


def fit_schemas(config: RestApiConfig, plans: list[Planned]) -> list[str]:
    """Shallower declared schemas, then none, when the config is over the tap's size limit."""
    notes = []
    for max_depth in (1, -1):
        if count_nodes(config) <= MAX_NODES:
            break
        memo: Memo = {}
        for plan in plans:
            if plan.resource is None or "schema" not in plan.resource:
                continue
            if max_depth < 0 or plan.shape.item is None:
                del plan.resource["schema"]
            else:
                plan.resource["schema"] = json_schema(plan.shape.item, max_depth, memo)
        what = "nested objects declared as any value" if max_depth > 0 else "no schema declared"
        notes.append(
            f"the config was over the tap's {MAX_NODES:,}-node limit: {what} "
            "(--discover then samples the API); narrow it with --include/--exclude"
        )
    return notes


def selected(op: Operation, include: list[str], exclude: list[str]) -> bool:
    """Whether a path passes --include (any pattern, when given) and no --exclude pattern."""
    hit = [p for p in include if fnmatchcase(op.path, p)]
    return (not include or bool(hit)) and not any(fnmatchcase(op.path, p) for p in exclude)


def convert(
    spec: str,
    *,
    given_base: str | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> tuple[RestApiConfig, Report]:
    """The config for ``spec`` and the report of what was guessed, checked by ``validate``."""
    document = load(spec)
    refs = Refs(document)
    url, why = base_url(document, given_base)
    ops = operations(refs, document)
    kept = [op for op in ops if selected(op, include or [], exclude or [])]
    auth = guess_auth(refs, document)
    report = Report(spec, document.version, url, why, auth)
    chosen = {id(op) for op in kept}
    report.filtered = [op.path for op in ops if id(op) not in chosen]
    report.plans = plan_all(kept, auth.query_params())
    if dropped := cap(report.plans, MAX_RESOURCES):
        report.notes.append(
            f"{dropped} resources over the tap's {MAX_RESOURCES:,}-resource limit left out "
            "(listed as skipped): narrow the import with --include/--exclude"
        )
    resources: list[str | ResourceConfig] = [
        p.resource for p in report.plans if p.resource is not None
    ]
    client: dict[str, Any] = {"base_url": url}
    if auth.auth is not None:
        client["auth"] = auth.auth
    if auth.headers:
        client["headers"] = auth.headers
    config: RestApiConfig = {"client": client}  # type: ignore[typeddict-item]
    if auth.params:
        config["resource_defaults"] = {"endpoint": {"params": auth.params}}
    config["resources"] = resources
    report.notes += fit_schemas(config, report.plans)
    checked = check_config({**config, "secrets": dict.fromkeys(auth.secrets, PLACEHOLDER)})
    report.errors, report.warnings = checked.errors, checked.warnings
    return config, report


def add_parser(commands: Any) -> None:
    """Register the ``import-openapi`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "import-openapi",
        help="write a config from an OpenAPI 3.0/3.1 or Swagger 2.0 document",
        description=(
            "Read an OpenAPI 3.0/3.1 or Swagger 2.0 document (a JSON/YAML file or an http(s) "
            "URL) and write a config: one resource per GET operation returning a collection, "
            "dependent resources for single-object paths, paginators, primary keys, declared "
            "schemas, incremental candidates and auth, each guess with its evidence in the "
            "report (stderr, or --report FILE). No request is sent to the API itself."
        ),
    )
    parser.add_argument("spec", help="the document: a file (JSON or YAML) or an http(s) URL")
    parser.add_argument("--base-url", help="the API's base URL (default: the document's server)")
    parser.add_argument(
        "--include", nargs="+", default=[], metavar="PATTERN", help="only these paths (/users*)"
    )
    parser.add_argument(
        "--exclude", nargs="+", default=[], metavar="PATTERN", help="leave these paths out"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=(
            "request the first two pages of every resource with the tap itself, prove each "
            "guess (records found, page 2 new or a proven end, the schema fits), fix what the "
            "evidence shows, print a verdict table; exit 1 when a resource failed"
        ),
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        default=[],
        metavar="FILE",
        help='tap settings for --check only, not written (e.g. {"secrets": {...}})',
    )
    parser.add_argument("-o", "--output", help="write the JSON config here (default: stdout)")
    parser.add_argument("--report", help="write the report here (default: stderr)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Import (and --check), write the config and the report; exit 1 when the config does not
    validate or a checked resource failed."""
    config, report = convert(
        args.spec, given_base=args.base_url, include=args.include, exclude=args.exclude
    )
    verdicts: list[Verdict] = []
    unchecked: list[str] = []
    if args.check and not report.errors:
        settings: dict[str, Any] = {}
        for name in args.settings:
            try:
                settings |= read_config_file(name)
            except ValueError as exc:
                raise ToolError(str(exc)) from None
        try:
            fixed, verdicts = check(dict(config), settings)
            config = fixed  # type: ignore[assignment]
        except ToolError as exc:  # the tap cannot be built (a secret not set): nothing checked
            unchecked = exc.lines
    rendered = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(rendered, encoding="utf-8")
    else:
        print(rendered, end="")
    lines = report.lines()
    if args.report:
        Path(args.report).write_text("\n".join(lines) + "\n", encoding="utf-8")
        err(f"wrote the report to {args.report}")
    else:
        for line in lines:
            err(line)
    failed = [v for v in verdicts if v.status == "failed"]
    if verdicts:
        err("")
        err(f"check: the first {PAGES} pages of each resource")
        for line in table(verdicts):
            err(line)
        fixed_count = sum(v.status == "fixed" for v in verdicts)
        names = f" ({', '.join(v.resource for v in failed)})" if failed else ""
        err(
            f"check: {len(verdicts) - len(failed) - fixed_count} ok, {fixed_count} fixed, "
            f"{len(failed)} failed{names}"
        )
    for line in unchecked:
        err(f"check: not run: {line.removeprefix('--check: ')}")
    if args.output:
        err(f"wrote {args.output}")
    return 1 if report.errors or failed or unchecked else 0
