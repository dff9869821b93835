"""Find the ``rest_api_source({...})`` dict in Python or Markdown text, without running it."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from tap_restgeneric.tools.common import ToolError

_STRING_START = re.compile(r"(?i)(?:rb|br|fr|rf|r|b|f|u)?('''|\"\"\"|'|\")")
_FENCE = re.compile(r"^```[ \t]*([\w+-]*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CALL = re.compile(r"\brest_api_source\s*\(\s*(?:config\s*=\s*)?")
_WORD = re.compile(r"\w+")
_NAME = re.compile(r"[A-Za-z_]\w*(?=\s*[,)])")
_QUOTED = r"(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")"
_SECRET = re.compile(
    r"\bdlt\s*\.\s*(?:secrets|config)\s*"
    rf"(?:\[\s*({_QUOTED})\s*\]|\.\s*get\s*\(\s*({_QUOTED})\s*(?:,[^()]*)?\))"
)
PYTHON_FENCES = ("python", "py", "python3", "")


@dataclass
class Scanned:
    """Code with comments removed, and where string literals are (for matching outside them)."""

    text: str
    in_string: list[bool]

    def masked(self) -> str:
        """The text with string contents blanked (newlines kept), to search code only."""
        return "".join(
            ("x" if c != "\n" else c) if s else c
            for c, s in zip(self.text, self.in_string, strict=True)
        )


def scan(text: str) -> Scanned:
    """Drop ``#`` and ``//`` comments outside string literals (keeping their newlines)."""
    kept: list[str] = []
    flags: list[bool] = []
    i = 0
    while i < len(text):
        char = text[i]
        start = _STRING_START.match(text, i) if char.isalpha() or char in "'\"" else None
        if start and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = _string_end(text, start.end(), start.group(1), "r" in start.group(0).lower())
            kept.append(text[i:end])
            flags.extend([True] * (end - i))
            i = end
        elif char == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
        else:
            word = _WORD.match(text, i) if char.isalnum() or char == "_" else None
            step = word.end() - i if word else 1
            kept.append(text[i : i + step])
            flags.extend([False] * step)
            i += step
    return Scanned("".join(kept), flags)


def _string_end(text: str, i: int, quote: str, raw: bool) -> int:
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        if text[i] == "\n" and len(quote) == 1:
            break
        i += 1
    raise ToolError(f"unterminated string literal near: {text[max(0, i - 40) : i].strip()}")


def replace_secrets(scanned: Scanned) -> tuple[str, list[str]]:
    """Replace ``dlt.secrets["x"]`` forms in code by ``{"secret": "x"}``; return the names."""
    names: list[str] = []
    text = scanned.text
    pieces: list[str] = []
    last = 0
    for found in _SECRET.finditer(text):
        if scanned.in_string[found.start()]:
            continue
        name = ast.literal_eval(found.group(1) or found.group(2))
        if name not in names:
            names.append(name)
        newlines = "\n" * found.group(0).count("\n")  # keep line numbers for error messages
        pieces += [text[last : found.start()], '{"secret": ', repr(name), "}", newlines]
        last = found.end()
    pieces.append(text[last:])
    return "".join(pieces), names


def _match_brace(masked: str, start: int) -> int:
    depth = 0
    for i in range(start, len(masked)):
        if masked[i] in "{[(":
            depth += 1
        elif masked[i] in "}])":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ToolError("the rest_api_source({...}) dict is not closed (unbalanced brackets)")


def code_block(text: str, is_python: bool) -> tuple[str, int]:
    """The Python source holding the call, and the file line it starts on."""
    if is_python:
        return text, 1
    for found in _FENCE.finditer(text):
        if found.group(1).lower() in PYTHON_FENCES and "rest_api_source(" in found.group(2):
            return found.group(2), text[: found.start(2)].count("\n") + 1
    if "rest_api_source(" in text:
        return text, 1
    raise ToolError("no rest_api_source(...) call found (looked in ```python code blocks)")


def config_literal(source: str) -> tuple[Scanned, int]:
    """The scanned dict literal passed to ``rest_api_source`` and its line within ``source``."""
    scanned = scan(source)
    masked = scanned.masked()
    call = _CALL.search(masked)
    if call is None:
        raise ToolError("no rest_api_source(...) call found")
    start = call.end()
    name = _NAME.match(masked, start)
    if masked[start : start + 1] != "{" and name:
        assigned = re.search(rf"(?m)^[ \t]*{name.group(0)}\s*(?::[^=\n]+)?=\s*(?=\{{)", masked)
        if assigned is None:
            msg = f"rest_api_source({name.group(0)}): no '{name.group(0)} = {{...}}' dict found"
            raise ToolError(msg)
        start = assigned.end()
    if masked[start : start + 1] != "{":
        raise ToolError("rest_api_source(...) is not called with a dict literal")
    end = _match_brace(masked, start)
    line = masked[:start].count("\n")
    text = scanned.text[start:end]
    return Scanned(text, scanned.in_string[start:end]), line
