"""Meltano ``capabilities:`` and ``settings:`` for tap-restgeneric, from its ``--about``.

``.venv/bin/python scripts/meltano_settings.py`` rewrites the extractor's two blocks in
meltano.yml (from its ``capabilities:`` line to its ``settings_group_validation:`` line);
``--check`` only says whether they are current (tests/test_settings.py checks the same).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MELTANO_YML = ROOT / "meltano.yml"
START = "      capabilities:\n"
SETTINGS = "      settings:\n"
END = "      settings_group_validation:\n"
KINDS = {"object": "object", "array": "array", "boolean": "boolean", "integer": "integer"}


def about(tap: str) -> dict[str, Any]:
    """The tap's ``--about --format json``."""
    done = subprocess.run(
        [tap, "--about", "--format", "json"], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def kind(prop: dict[str, Any]) -> str:
    """The Meltano setting kind of a JSON Schema property."""
    types = prop.get("type", "string")
    main = next(t for t in ([types] if isinstance(types, str) else types) if t != "null")
    if main == "number":
        return "decimal"
    if main == "string" and "enum" in prop:
        return "options"
    if main == "string" and prop.get("format") in {"date-time", "date"}:
        return "date_iso8601"
    return KINDS.get(main, "string")


def settings(info: dict[str, Any]) -> list[dict[str, Any]]:
    """One Meltano setting per top-level setting of the tap, in --about's order."""
    made = []
    for name, prop in info["settings"]["properties"].items():
        setting: dict[str, Any] = {"name": name, "kind": kind(prop)}
        if "default" in prop:
            setting["value"] = prop["default"]
        if setting["kind"] == "options":
            setting["options"] = [{"label": str(v).title(), "value": v} for v in prop["enum"]]
        if prop.get("secret"):
            setting["sensitive"] = True
        if prop.get("description"):
            setting["description"] = " ".join(prop["description"].split())
        made.append(setting)
    return made


def render(info: dict[str, Any]) -> str:
    """Capabilities and settings as meltano.yml lines (values and descriptions as JSON)."""
    lines = [START, *(f"        - {name}\n" for name in info["capabilities"]), SETTINGS]
    made = settings(info)
    for setting in made:
        lines.append(f"        - name: {setting['name']}\n")
        lines.append(f"          kind: {setting['kind']}\n")
        for key in ("value", "sensitive"):
            if key in setting:
                lines.append(f"          {key}: {json.dumps(setting[key])}\n")
        if "options" in setting:
            lines.append("          options:\n")
            lines += [
                f"            - {{label: {o['label']}, value: {o['value']}}}\n"
                for o in setting["options"]
            ]
        if "description" in setting:
            lines.append(f"          description: {json.dumps(setting['description'])}\n")
    return "".join(lines)


def current_block(text: str) -> tuple[int, int]:
    """Where the extractor's capabilities and settings start and end in meltano.yml's text."""
    start = text.index(START)
    return start, text.index(END, start)


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, compare) meltano.yml's extractor settings."""
    tap = str(Path(sys.executable).parent / "tap-restgeneric")
    block = render(about(tap))
    text = MELTANO_YML.read_text()
    start, end = current_block(text)
    if "--check" in argv:
        current = text[start:end] == block
        print("meltano.yml is current" if current else "meltano.yml differs from --about")
        return 0 if current else 1
    MELTANO_YML.write_text(text[:start] + block + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
