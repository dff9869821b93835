"""The import report: each guess with the evidence that led to it, and what is left to do."""

from __future__ import annotations

from dataclasses import dataclass, field

from tap_restgeneric.tools.importer import secrets_line
from tap_restgeneric.tools.openapi.auth import AuthGuess
from tap_restgeneric.tools.openapi.resources import Planned


@dataclass
class Report:
    """Everything the import decided, as text lines."""

    source: str
    version: str
    base_url: str
    base_why: str
    auth: AuthGuess
    plans: list[Planned] = field(default_factory=list)
    filtered: list[str] = field(default_factory=list)  # paths left out by --include/--exclude
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report, one finding a line; resources first, then skipped operations."""
        made = [p for p in self.plans if p.resource is not None]
        out = [
            f"import-openapi {self.source} (OpenAPI {self.version})",
            f"base_url: {self.base_url} ({self.base_why})",
            f"auth: {self.auth.auth['type'] if self.auth.auth else 'none'}"
            f" ({'; '.join(self.auth.notes)})",
            f"{len(made)} resources from {len(self.plans)} GET operations",
        ]
        for plan in made:
            out.append(f"resource {plan.name}: GET {plan.op.template or plan.op.path}")
            out += [f"  {line}" for line in plan.lines]
        for plan in self.plans:
            if plan.resource is None:
                out.append(f"skipped GET {plan.op.template or plan.op.path}: {plan.skipped}")
        out += [f"left out by --include/--exclude: GET {path}" for path in self.filtered]
        out += [f"note: {note}" for note in self.notes]
        out.append(secrets_line(self.auth.secrets))
        out += [f"validate: error: {line}" for line in self.errors]
        out += [f"validate: warning: {line}" for line in self.warnings]
        if not self.errors:
            out.append("validate: OK (restgeneric validate passes)")
        return out
