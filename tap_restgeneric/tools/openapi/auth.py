"""Auth from ``securitySchemes`` / ``securityDefinitions`` and the ``security`` requirements
(alternatives OR'ed, schemes in one requirement AND'ed), with ``{"secret": ...}`` references."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tap_restgeneric.tools.openapi.loading import Document
from tap_restgeneric.tools.openapi.refs import Node, Refs


@dataclass
class AuthGuess:
    """The client ``auth`` (None: no auth), the secrets it names, and what the report says;
    ``headers``/``params``: credentials of AND'ed schemes the one ``auth`` cannot carry (client
    headers, query parameters on every request); ``exact`` False: a scheme the tap cannot do."""

    auth: dict[str, Any] | None = None
    secrets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headers: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    exact: bool = True

    def query_params(self) -> set[str]:
        """The query parameters the auth sends on every request (an api key in the query)."""
        auth = self.auth or {}
        key = {str(auth["name"])} if auth.get("location") in ("query", "param") else set()
        return key | set(self.params)


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


def _alternatives(refs: Refs, schemes: dict[str, Node]) -> list[tuple[str, ...]]:
    """The requirement objects, each the tuple of scheme names it ANDs, in the order the
    document lists them (global ``security`` first, then each GET operation's), once each;
    every declared scheme alone when no requirement names one."""
    found: list[tuple[str, ...]] = []
    requirements = [refs.root.get("security")]
    paths = refs.root.get("paths")
    for _, item in paths.items() if paths is not None else []:
        get = item.get("get")
        requirements.append(get.get("security") if get is not None else None)
    for requirement in requirements:
        for alternative in requirement.elements() if requirement is not None else []:
            names = tuple(n for n, _ in alternative.items() if n in schemes)
            if names and names not in found:
                found.append(names)
    return found or [(name,) for name in schemes]


def scheme_auth(name: str, scheme: Node, swagger: bool) -> AuthGuess:
    """One scheme as an ``auth`` config (a bearer token with ``exact`` False when the tap
    cannot do it)."""
    kind = str(scheme.raw("type", "")).lower()
    http = str(scheme.raw("scheme", "")).lower() if kind == "http" else ""
    where = f"security scheme '{name}'"
    if http == "bearer":
        return AuthGuess({"type": "bearer", "token": _secret("token")}, ["token"], [where])
    if kind == "basic" or http == "basic":
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
    bearer = {"type": "bearer", "token": _secret("token")}
    if kind == "openidconnect":
        note = f"{where}: OpenID Connect; get an access token yourself"
        return AuthGuess(bearer, ["token"], [note])
    what = f"http {http or '?'}" if kind == "http" else (kind or "?")
    note = f"{where}: type {what} is not supported; a bearer token is assumed"
    return AuthGuess(bearer, ["token"], [note], exact=False)


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


def secret_name(scheme: str, taken: list[str]) -> str:
    """A secret name from a scheme's (``ApiKeyQuery`` → ``api_key_query``), not one of ``taken``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", scheme)
    base = re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_") or "key"
    base = base if base[0].isalpha() else f"key_{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _slot(guess: AuthGuess) -> str | None:
    """Where an api key outside ``auth`` can go (``header``/``query``); None: only ``auth``."""
    auth = guess.auth or {}
    location = auth.get("location")
    if auth.get("type") == "api_key" and location in ("header", "query"):
        return str(location)
    return None


def _token_to_get(scheme: Node, part: AuthGuess) -> bool:
    """An OAuth2 / OpenID Connect scheme written as a bearer token the user obtains."""
    kind = str(scheme.raw("type", "")).lower()
    return kind in ("oauth2", "openidconnect") and (part.auth or {}).get("type") == "bearer"


def combined(names: tuple[str, ...], schemes: dict[str, Node], swagger: bool) -> AuthGuess | str:
    """The schemes of one requirement object (all required) as one ``auth`` plus client headers
    and query parameters for the other api keys; the reason when the config cannot say it."""
    parts = [(name, scheme_auth(name, schemes[name], swagger)) for name in names]
    if bad := [name for name, part in parts if not part.exact]:
        return f"'{bad[0]}' is of a type the tap cannot send"
    tokens = [name for name, part in parts if _token_to_get(schemes[name], part)]
    if len(tokens) > 1:  # OAuth2 flows AND'ed (Google's Oauth2 + Oauth2c): one access token
        parts = [(name, part) for name, part in parts if name not in tokens[1:]]
        kept = next(part for name, part in parts if name == tokens[0])
        listed = " and ".join(f"'{name}'" for name in tokens)
        kept.notes.append(f"required together: {listed}, one access token with their scopes")
    if len(parts) == 1:
        return parts[0][1]
    keys = [(name, part) for name, part in parts if _slot(part)]
    others = [(name, part) for name, part in parts if not _slot(part)]
    if len(others) > 1:
        return f"'{others[0][0]}' and '{others[1][0]}' both need the one auth"
    (first, found), extras = (others[0], keys) if others else (keys[0], keys[1:])
    auth = found.auth or {}
    used: dict[str, set[str]] = {"header": set(), "query": set()}
    if slot := _slot(found):
        used[slot].add(str(auth["name"]).lower())
    elif auth.get("type") != "api_key":  # bearer, basic, OAuth2: the Authorization header
        used["header"].add("authorization")
    together = [f"'{first}' as auth"]
    for name, part in extras:
        where, param = _slot(part) or "", str((part.auth or {})["name"])
        if param.lower() in used[where]:
            return f"'{name}' sends {where} '{param}' that another scheme sends too"
        used[where].add(param.lower())
        secret = secret_name(name, found.secrets)
        found.secrets.append(secret)
        if where == "header":
            found.headers[param] = _secret(secret)
            together.append(f"'{name}' as client header '{param}' (secret '{secret}')")
        else:
            found.params[param] = _secret(secret)
            together.append(
                f"'{name}' as query parameter '{param}' on every request "
                f"(resource_defaults.endpoint.params; secret '{secret}')"
            )
    found.notes.append(f"required together: {', '.join(together)}")
    return found


def guess_auth(refs: Refs, document: Document) -> AuthGuess:
    """The first security requirement (alternatives in document order) the config can express:
    one scheme as the client's ``auth``, several AND'ed ones as ``auth`` plus headers/params."""
    schemes = _schemes(refs, document)
    alternatives = _alternatives(refs, schemes)
    if not alternatives:
        return AuthGuess(notes=["no security scheme declared: no auth"])
    passed: list[str] = []
    for names in alternatives:
        found = combined(names, schemes, document.swagger)
        if isinstance(found, AuthGuess):
            found.notes += passed
            break
        passed.append(f"{' and '.join(names)} not used: {found}")
    else:  # none the config can express: the first scheme of the first, as before
        names = alternatives[0][:1]
        found = scheme_auth(names[0], schemes[names[0]], document.swagger)
        if len(alternatives) > 1 or len(alternatives[0]) > 1:
            found.notes.append(f"no requirement the config can express ({'; '.join(passed)})")
    if others := [n for n in dict.fromkeys(n for a in alternatives for n in a) if n not in names]:
        found.notes.append(f"other schemes declared, not used: {', '.join(others)}")
    return found
