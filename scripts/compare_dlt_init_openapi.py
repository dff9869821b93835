"""Side by side: ``restgeneric import-openapi`` and dlt's ``dlt-init-openapi`` on the real-world
documents of tests/test_tools_openapi_corpus.py. Not part of CI (it installs dlt).

    .venv/bin/python scripts/compare_dlt_init_openapi.py [--markdown]

Creates .venv-dlt-openapi (git-ignored) with ``dlt-init-openapi==0.1.0`` from PyPI, plus two pins
without which 0.1.0 does not start today: ``setuptools<70`` (its dlt 0.4.12 imports
``pkg_resources``) and ``click<8.2`` (its typer 0.12 fails with 'Secondary flag is not valid for
non-boolean flag'). Runs it non-interactively (``--no-interactive``) on each document into a temp
dir, reads the ``source_config`` of the generated source (resources, paginators) and prints a
table. It runs offline: dlt-init-openapi downloads dlt's ``rest_api`` source from
raw.githubusercontent.com before generating, only to copy it into the output; an empty cache
directory (``site-packages/rest_api``) stands in for it (the generator itself is untouched).

"Right" is judged per endpoint against the document (REFERENCE below: the paginator the API's
document describes, read by hand), for the endpoints both tools produced.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_tools_openapi_corpus import SAMPLE  # noqa: E402

from tap_restgeneric.tools.openapi.command import convert  # noqa: E402

VENV = ROOT / ".venv-dlt-openapi"
PACKAGES = ["dlt-init-openapi==0.1.0", "setuptools<70", "click<8.2"]

# document → {path: the paginator type the document describes}, read in each document by hand
REFERENCE: dict[str, dict[str, str]] = {
    "github": {
        "/repos/{owner}/{repo}/issues": "header_link",  # Link header declared
        "/orgs/{org}/repos": "header_link",
        "/users": "header_link",  # since + Link
    },
    "stripe.com.json": {
        "/v1/customers": "cursor",  # starting_after = last id, has_more
        "/v1/charges": "cursor",
    },
    "slack.com.json": {"/users.list": "cursor"},  # cursor ← response_metadata.next_cursor
    "asana.com.json": {"/tasks": "cursor", "/projects": "cursor"},  # offset is a token
    "twitter.com/current.json": {"/2/dm_events": "cursor"},  # pagination_token ← meta.next_token
    "box.com.json": {"/folders/{folder_id}/items": "offset"},  # offset/limit, total_count
    "pendo.io.json": {"/users": "offset"},  # start/limit
    "digitalocean.com.json": {"/v2/droplets": "json_link"},  # links.pages.next
    "stackexchange.com.json": {"/answers": "page_number"},  # page/pagesize, has_more
    "dev.to.json": {"/api/articles": "page_number"},  # page/per_page
    "pandascore.co.json": {"/matches": "page_number"},  # page[number]/page[size]
    "bitbucket.org.json": {"/repositories": "json_link"},  # next
    "googleapis.com/drive.json": {"/files": "cursor"},  # pageToken ← nextPageToken
    "rawg.io.json": {"/games": "json_link"},  # next
    "twilio.com/twilio_flex_v1.json": {"/v1/Channels": "json_link"},  # meta.next_page_url
}


def install() -> Path:
    """The venv's dlt-init-openapi, created when missing."""
    exe = VENV / "bin" / "dlt-init-openapi"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *PACKAGES], check=True)
    site = next((VENV / "lib").glob("python3*/site-packages"))
    cache = site / "rest_api"  # dlt-init-openapi's cache of dlt's rest_api source
    if not cache.exists():
        cache.mkdir()
        (cache / "README.md").write_text("empty: stands in for dlt's rest_api source (offline)\n")
    return exe


def literal(node: ast.AST) -> Any:
    """A Python literal (dicts, lists, constants); anything else (``base_url``) is None."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Dict):
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values, strict=True) if k}
    if isinstance(node, ast.List):
        return [literal(e) for e in node.elts]
    return None


def norm_path(path: str) -> str:
    """``users/{user_id}/repos`` and ``/users/{id}/repos`` → ``/users/{}/repos``."""
    parts = [("{}" if "{" in p else p) for p in path.strip("/").split("/")]
    return "/" + "/".join(parts)


STYLE = {"json_response": "json_link"}


def style(paginator: Any) -> str:
    """A paginator's type; none written is ``auto`` (both tools then detect at run time)."""
    if paginator is None:
        return "auto"
    kind = paginator if isinstance(paginator, str) else str(paginator.get("type"))
    return STYLE.get(kind, kind)


def dlt_resources(exe: Path, name: str, path: Path, out: Path) -> dict[str, str] | str:
    """dlt-init-openapi's resources (document path → paginator type), or why it failed."""
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    command = [str(exe), "gen", "--path", str(path), "--output-path", str(out)]
    command += ["--no-interactive", "--log-level", "40"]
    try:
        done = subprocess.run(command, check=False, capture_output=True, env=env, timeout=300)
    except subprocess.TimeoutExpired:
        return "timeout (300 s)"
    sources = list(out.glob("*/gen/__init__.py")) + list(out.glob("gen/__init__.py"))
    if done.returncode != 0 or not sources:
        output = (done.stdout + done.stderr).decode(errors="replace")
        lines = [x.split(" - ", 1)[-1] for x in output.splitlines()]
        lines = [x.strip() for x in lines if x.strip() and "terminal exception" not in x]
        error = next((x for x in reversed(lines) if "rror" in x or "not" in x), "")
        return f"failed: {(error or (lines or ['?'])[-1])[:120]}"
    tree = ast.parse(sources[0].read_text())
    config: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "source_config":
            config = literal(node.value) if node.value else {}
    default = (config.get("client") or {}).get("paginator")
    found = {}
    for resource in config.get("resources") or []:
        endpoint = resource.get("endpoint") or {}
        found[norm_path(endpoint.get("path", ""))] = style(endpoint.get("paginator", default))
    return found


def ours(path: Path) -> tuple[dict[str, str], bool]:
    """import-openapi's resources (document path → paginator type), and whether it validated."""
    config, report = convert(str(path))
    found = {}
    for resource in config["resources"]:
        endpoint: Any = resource["endpoint"]  # type: ignore[index]
        found[norm_path(endpoint["path"])] = style(endpoint.get("paginator"))
    return found, report.errors == []


def lookup(found: dict[str, str], path: str) -> str | None:
    """The paginator of the document's ``path`` (both tools keep the document's paths)."""
    return found.get(norm_path(path))


def main() -> None:
    """Run both tools on every document; print the table and the totals."""
    markdown = "--markdown" in sys.argv
    exe = install()
    rows, right = [], Counter[str]()
    judged = 0
    totals: dict[str, Counter[str]] = {"restgeneric": Counter(), "dlt-init-openapi": Counter()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in sorted(SAMPLE.items()):
            started = time.monotonic()
            mine, valid = ours(path)
            ours_s = time.monotonic() - started
            started = time.monotonic()
            theirs = dlt_resources(exe, name, path, Path(tmp) / name.replace("/", "_"))
            theirs_s = time.monotonic() - started
            totals["restgeneric"]["parsed"] += 1
            totals["restgeneric"]["resources"] += len(mine)
            totals["restgeneric"]["paged"] += sum(
                1 for s in mine.values() if s not in ("auto", "single_page")
            )
            notes = []
            if isinstance(theirs, str):
                notes.append(theirs)
                theirs_map: dict[str, str] = {}
            else:
                theirs_map = theirs
                totals["dlt-init-openapi"]["parsed"] += 1
                totals["dlt-init-openapi"]["resources"] += len(theirs)
                totals["dlt-init-openapi"]["paged"] += sum(
                    1 for s in theirs.values() if s not in ("auto", "single_page")
                )
            for endpoint, truth in REFERENCE.get(name, {}).items():
                a, b = lookup(mine, endpoint), lookup(theirs_map, endpoint)
                judged += 1
                for tool, got in (("restgeneric", a), ("dlt-init-openapi", b)):
                    right[tool] += got == truth
                    right[f"{tool} missing"] += got is None
                got = f"{a or 'not generated'} / {b or 'not generated'}"
                notes.append(f"`{endpoint}` {truth}: {got}")
            mine_styles = Counter(mine.values())
            theirs_styles = Counter(theirs_map.values())
            rows.append(
                (
                    name,
                    f"{len(mine)}{'' if valid else ' (invalid)'}",
                    ", ".join(f"{k} {v}" for k, v in mine_styles.most_common()),
                    f"{ours_s:.1f}",
                    "-" if isinstance(theirs, str) else str(len(theirs_map)),
                    ", ".join(f"{k} {v}" for k, v in theirs_styles.most_common()),
                    f"{theirs_s:.1f}",
                    "; ".join(notes),
                )
            )
    head = (
        "document",
        "restgeneric resources",
        "its paginators",
        "s",
        "dlt-init-openapi resources",
        "its paginators",
        "s",
        "judged endpoint: the document's paginator: restgeneric's / dlt-init-openapi's",
    )
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        for row in rows:
            print(" | ".join(row))
    print()
    for tool, counts in totals.items():
        print(
            f"{tool}: {counts['parsed']}/{len(SAMPLE)} documents parsed, "
            f"{counts['resources']} resources, {counts['paged']} with a paginator "
            f"(not auto/single_page); judged endpoints: {right[tool]} right, "
            f"{judged - right[tool] - right[tool + ' missing']} wrong, "
            f"{right[tool + ' missing']} not generated (of {judged})"
        )


if __name__ == "__main__":
    main()
