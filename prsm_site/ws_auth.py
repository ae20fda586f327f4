"""Websocket handshake security: who is connecting, and from which web page.

Two ways to authenticate, as on the REST API:

- **Session cookie** (the browser): Channels' ``AuthMiddlewareStack`` reads the
  Django session, exactly as a page request would.
- **API token** (the SDK, scripts): ``Authorization: Bearer prsm_…`` on the
  handshake request, or ``?token=prsm_…`` in the URL for clients that cannot set
  headers. Prefer the header: a query string is part of the URL, and URLs end up
  in reverse-proxy access logs, browser history and monitoring tools, where the key
  would be readable by whoever reads those. A token that is presented but invalid
  makes the connection anonymous (refused with 4401) even if a session cookie
  came along: an explicit credential that fails must not silently fall back to
  another, the same rule as the REST API's.

The Origin check stops cross-site websocket hijacking: a page on another site
cannot open a socket that rides on the user's session cookie, because browsers
always send ``Origin`` on websocket handshakes. Clients that send no ``Origin``
are not browsers (the SDK, curl, websockets libraries) and cannot carry a
victim's cookies, so they are let through to authenticate like any other caller.
Channels' stock ``AllowedHostsOriginValidator`` refuses a missing ``Origin``
unless ``ALLOWED_HOSTS`` contains ``*``, which would lock the SDK out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from workflows import ratelimit
from workflows.tokens import api_token_authenticate

TOKEN_QUERY_PARAM = "token"
_BEARER = b"bearer"


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    # ASGI servers pass header names lower-cased.
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def token_from_scope(scope: dict[str, Any]) -> str | None:
    """The API key the handshake presents, or ``None`` when it presents none.

    A malformed ``Authorization`` header yields ``""``: a credential was offered
    and it is not valid.
    """
    header = _header(scope, b"authorization")
    if header is not None:
        parts = header.split()
        if parts and parts[0].lower() == _BEARER:
            if len(parts) != 2:
                return ""
            try:
                return parts[1].decode("ascii")
            except UnicodeDecodeError:
                return ""
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    values = query.get(TOKEN_QUERY_PARAM)
    if values:
        return values[0]
    return None


@database_sync_to_async
def _token_for_key(key: str, ip: str) -> tuple[Any, int | None]:
    """The token's user and id; an anonymous user and ``None`` for a bad key, or for
    any key once ``ip`` has used up its failed keys (``workflows.ratelimit``)."""
    try:
        ratelimit.bearer_check(ip)
    except ratelimit.TooManyFailedKeys:
        return AnonymousUser(), None
    token = api_token_authenticate(key=key) if key else None
    if token is None:
        ratelimit.bearer_failed(ip)
        return AnonymousUser(), None
    return token.user, token.pk


def _scope_ip(scope: dict[str, Any]) -> str:
    meta: dict[str, Any] = {"REMOTE_ADDR": (scope.get("client") or ("",))[0]}
    forwarded = _header(scope, b"x-forwarded-for")
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded.decode("latin-1")
    return ratelimit.client_ip_from_meta(meta)


class TokenAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` (and ``scope["api_token_id"]``, so the consumer can
    close when the token is revoked) from an API token when the handshake presents one.

    Placed inside ``AuthMiddlewareStack`` so the session user is resolved first and
    a presented token replaces it (see the module docstring).
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = token_from_scope(scope)
        if key is not None:
            user, token_id = await _token_for_key(key, _scope_ip(scope))
            scope = dict(scope, user=user, auth_method="token", api_token_id=token_id)
        return await self.inner(scope, receive, send)


def WebsocketAuthStack(inner: Any) -> Any:
    """Session auth, then API-token auth, around ``inner``."""
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class BrowserOriginValidator(OriginValidator):
    """``OriginValidator`` that lets clients without an ``Origin`` header through."""

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return bool(self.validate_origin(parsed_origin))


def AllowedOriginsValidator(application: Any) -> BrowserOriginValidator:
    """Browsers must come from a page served by one of our hosts.

    Allowed: ``ALLOWED_HOSTS`` (any scheme and port, as Channels'
    ``AllowedHostsOriginValidator``) and the full origins of
    ``CSRF_TRUSTED_ORIGINS`` (the origins already trusted for cookie-authenticated
    writes). No ``Origin`` at all: allowed (not a browser).
    """
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    # Django writes subdomain wildcards ``https://*.example.com``; Channels' matcher
    # spells them ``https://.example.com`` (which also admits the apex domain).
    allowed += [origin.replace("://*.", "://.", 1) for origin in settings.CSRF_TRUSTED_ORIGINS]
    return BrowserOriginValidator(application, allowed)
