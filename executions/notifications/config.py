"""The ``notification_config`` of an execution: checked at execute time (errors → 400)."""

from __future__ import annotations

from typing import Any

import httpx
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from executions.outbound import OutboundBlocked, OutboundUnresolvable, check_url

CHANNELS: tuple[str, ...] = ("email", "webhook")
CHANNEL_LISTS: tuple[str, ...] = ("on_completion", "on_failure")
CONFIG_KEYS: tuple[str, ...] = (*CHANNEL_LISTS, "webhook_url", "email")
MAX_URL_LENGTH = 2000  # WebhookDelivery.url


class NotificationConfigError(ValueError):
    """``notification_config`` is invalid; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def validate_notification_config(cfg: Any, *, user: Any = None) -> dict[str, Any]:
    """The normalized config, or :class:`NotificationConfigError`.

    Shape: ``{"on_completion": [...], "on_failure": [...], "webhook_url": "...",
    "email": "..."}``, all optional; the lists hold ``"email"`` and/or
    ``"webhook"`` (duplicates dropped). The result always has both lists.

    The webhook URL must be http(s) and pass the outbound guard now (a name that
    does not resolve *now* is accepted: DNS may be briefly down, and every
    delivery attempt checks again). ``email`` defaults to the address of the user
    who starts the execution; pass that ``user`` to have a missing address
    reported here rather than skipped at send time.
    """
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        raise NotificationConfigError("notification_config", "must be an object")
    for key in cfg:
        if key not in CONFIG_KEYS:
            raise NotificationConfigError(
                f"notification_config.{key}",
                f"unknown setting; expected one of: {', '.join(CONFIG_KEYS)}",
            )
    result: dict[str, Any] = {}
    for key in CHANNEL_LISTS:
        result[key] = _channel_list(key, cfg.get(key))
    used = {channel for key in CHANNEL_LISTS for channel in result[key]}

    url = cfg.get("webhook_url")
    if url is not None:
        result["webhook_url"] = _checked_webhook_url(url)
    elif "webhook" in used:
        raise NotificationConfigError(
            "notification_config.webhook_url", "is required when a list includes 'webhook'"
        )

    email = cfg.get("email")
    if email is not None:
        if not isinstance(email, str):
            raise NotificationConfigError("notification_config.email", "must be a string")
        try:
            validate_email(email)
        except ValidationError:
            raise NotificationConfigError(
                "notification_config.email", f"{email!r} is not an email address"
            ) from None
        result["email"] = email
    elif "email" in used and user is not None and not getattr(user, "email", ""):
        raise NotificationConfigError(
            "notification_config.email",
            "is required: the account has no email address to default to",
        )
    return result


def _channel_list(key: str, value: Any) -> list[str]:
    where = f"notification_config.{key}"
    if value is None:
        return []
    if not isinstance(value, list):
        raise NotificationConfigError(where, "must be a list of channels")
    channels: list[str] = []
    for i, channel in enumerate(value):
        if channel not in CHANNELS:
            raise NotificationConfigError(
                f"{where}[{i}]",
                f"unknown channel {channel!r}; expected one of: {', '.join(CHANNELS)}",
            )
        if channel not in channels:
            channels.append(channel)
    return channels


def _checked_webhook_url(url: Any) -> str:
    where = "notification_config.webhook_url"
    if not isinstance(url, str) or not url.strip():
        raise NotificationConfigError(where, "must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise NotificationConfigError(where, f"is longer than {MAX_URL_LENGTH} characters")
    if url != url.strip() or any(c.isspace() for c in url):
        raise NotificationConfigError(where, "must not contain whitespace")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise NotificationConfigError(where, f"is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise NotificationConfigError(where, "must be an http:// or https:// URL with a host")
    try:
        check_url(parsed)
    except OutboundUnresolvable:
        pass  # see the docstring: checked again on every attempt
    except OutboundBlocked as exc:
        raise NotificationConfigError(where, str(exc)) from None
    return url
