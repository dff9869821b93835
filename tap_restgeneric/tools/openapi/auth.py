"""Auth from ``securitySchemes`` / ``securityDefinitions``, with ``{"secret": ...}`` references."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tap_restgeneric.tools.openapi.loading import Document
from tap_restgeneric.tools.openapi.refs import Node, Refs


@dataclass
class AuthGuess:
    """The client ``auth`` (None: no auth), the secrets it names, and what the report says."""

    auth: dict[str, Any] | None = None
    secrets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _secret(name: str) -> dict[str, str]:
    """``{"secret": name}``."""
    return {"secret": name}


def _schemes(refs: Refs, document: Document) -> dict[str, Node]:
    """The declared security schemes by name."""
    if document.swagger:
        found = refs.root.get("securityDefinitions")
    else:
        components = refs.root.get("components")
        found = components.get("securitySchemes") if components is not None else None
    return dict(found.items()) if found is not None else {}


def _required(refs: Refs, schemes: dict[str, Node]) -> list[str]:
    """Scheme names in the order the document requires them (global ``security`` first)."""
    names: list[str] = []
    requirements = [refs.root.get("security")]
    paths = refs.root.get("paths")
    for _, item in paths.items() if paths is not None else []:
        get = item.get("get")
        requirements.append(get.get("security") if get is not None else None)
    for requirement in requirements:
        for alternative in requirement.elements() if requirement is not None else []:
            names += [n for n, _ in alternative.items() if n in schemes and n not in names]
    return names or list(schemes)


def scheme_auth(name: str, scheme: Node, swagger: bool) -> AuthGuess:
    """One scheme as an ``auth`` config (None with a note when the tap cannot do it)."""
    kind = str(scheme.raw("type", "")).lower()
    where = f"security scheme '{name}'"
    if kind == "http" and str(scheme.raw("scheme", "")).lower() == "bearer":
        return AuthGuess({"type": "bearer", "token": _secret("token")}, ["token"], [where])
    if kind == "basic" or (kind == "http" and str(scheme.raw("scheme", "")).lower() == "basic"):
        auth = {"type": "http_basic", "username": _secret("username")}
        auth["password"] = _secret("password")
        return AuthGuess(auth, ["username", "password"], [where])
    if kind == "apikey":
        location = str(scheme.raw("in", "header"))
        auth = {"type": "api_key", "name": str(scheme.raw("name", "Authorization"))}
        auth |= {"api_key": _secret("api_key"), "location": location}
        return AuthGuess(auth, ["api_key"], [f"{where} ({location} '{auth['name']}')"])
    if kind == "oauth2":
        return _oauth2(name, scheme, swagger)
    note = f"{where}: type {kind or '?'} is not supported; a bearer token is assumed"
    return AuthGuess({"type": "bearer", "token": _secret("token")}, ["token"], [note])


def _oauth2(name: str, scheme: Node, swagger: bool) -> AuthGuess:
    """Client credentials when the scheme has that flow; otherwise a bearer token to obtain."""
    where = f"security scheme '{name}'"
    token_url, scopes = None, []
    if swagger and scheme.raw("flow") == "application":
        token_url, scopes = scheme.raw("tokenUrl"), list(scheme.raw("scopes") or {})
    flows = scheme.get("flows")
    flow = flows.get("clientCredentials") if flows is not None else None
    if flow is not None:
        token_url, scopes = flow.raw("tokenUrl"), list(flow.raw("scopes") or {})
    if isinstance(token_url, str) and token_url:
        auth: dict[str, Any] = {"type": "oauth2_client_credentials", "access_token_url": token_url}
        auth |= {"client_id": _secret("client_id"), "client_secret": _secret("client_secret")}
        note = f"{where} (OAuth2 client credentials at {token_url})"
        if scopes:
            auth["access_token_request_data"] = {"scope": " ".join(scopes)}
            note += f"; scopes {' '.join(scopes)}: remove the ones you do not need"
        return AuthGuess(auth, ["client_id", "client_secret"], [note])
    note = f"{where}: OAuth2 without a client-credentials flow; get an access token yourself"
    return AuthGuess({"type": "bearer", "token": _secret("token")}, ["token"], [note])


def guess_auth(refs: Refs, document: Document) -> AuthGuess:
    """The first security scheme the document requires, as the client's ``auth``."""
    schemes = _schemes(refs, document)
    names = _required(refs, schemes)
    if not names:
        return AuthGuess(notes=["no security scheme declared: no auth"])
    found = scheme_auth(names[0], schemes[names[0]], document.swagger)
    if len(names) > 1:
        found.notes.append(f"other schemes declared, not used: {', '.join(names[1:])}")
    return found
