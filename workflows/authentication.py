"""``Authorization: Bearer <key>`` authentication against hashed ApiTokens.

Failed keys are limited per client address (``workflows.ratelimit``): past the
limit, every Bearer request from that address is a 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from workflows import ratelimit, tokens


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        ip = ratelimit.client_ip(request)
        try:
            ratelimit.bearer_check(ip)  # before the key is looked at: no oracle past the limit
        except ratelimit.TooManyFailedKeys as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=exc.message) from None
        if len(header) != 2:
            ratelimit.bearer_failed(ip)
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected 'Bearer <key>'."
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            ratelimit.bearer_failed(ip)
            raise exceptions.AuthenticationFailed("The API key has invalid characters.") from None
        token = tokens.api_token_authenticate(key=key)
        if token is None:
            ratelimit.bearer_failed(ip)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the Bearer API key in the OpenAPI schema."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (prsm_…) from POST /api/v1/tokens or create_api_token.",
        }
