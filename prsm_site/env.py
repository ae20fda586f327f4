"""Typed readers for environment variables.

Each helper returns the parsed value or raises ``ImproperlyConfigured`` naming the
variable, so a typo in a deployment fails at start-up instead of half-working.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no).")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def generated_secret(path: Path, make: Callable[[], str]) -> str:
    """Read a development secret from ``path``, creating it on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def random_secret_key() -> str:
    return secrets.token_urlsafe(50)


S3_OPTIONS = {"endpoint": "endpoint_url", "region": "region_name", "addressing": "addressing_style"}


def storage_from_url(url: str) -> dict[str, Any]:
    """The ``STORAGES["default"]`` entry that ``PRSM_STORAGE_URL`` names.

    Empty: files under ``MEDIA_ROOT`` (one machine). ``file:///srv/prsm/media``: a
    directory every machine mounts at the same path. ``s3://bucket[/prefix]`` with
    optional ``?endpoint=https://…&region=…&addressing=path|virtual``: S3-compatible
    object storage (django-storages; credentials from the usual ``AWS_ACCESS_KEY_ID``
    and ``AWS_SECRET_ACCESS_KEY``, or the host's role).
    """
    if not url:  # MEDIA_ROOT, read when the storage is first used
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path.startswith("/") or parts.netloc:
            raise ImproperlyConfigured(
                f"PRSM_STORAGE_URL={url!r}: a file URL names an absolute directory, "
                "as in file:///srv/prsm/media."
            )
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": unquote(parts.path)},
        }
    if parts.scheme != "s3":
        raise ImproperlyConfigured(
            f"PRSM_STORAGE_URL={url!r} is neither s3://bucket[/prefix] nor file:///directory."
        )
    if not parts.netloc:
        raise ImproperlyConfigured(f"PRSM_STORAGE_URL={url!r} names no bucket (s3://bucket).")
    query = parse_qs(parts.query, keep_blank_values=False)
    unknown = sorted(set(query) - set(S3_OPTIONS))
    if unknown:
        raise ImproperlyConfigured(
            f"PRSM_STORAGE_URL={url!r}: unknown option {', '.join(unknown)} "
            f"(known: {', '.join(S3_OPTIONS)})."
        )
    options: dict[str, Any] = {
        "bucket_name": parts.netloc,
        "location": unquote(parts.path).strip("/"),
        "file_overwrite": False,  # stored names are ids; never replace one silently
        "default_acl": None,  # private: the bucket's own policy
        "querystring_auth": True,
        "signature_version": "s3v4",
    }
    for key, option in S3_OPTIONS.items():
        if key in query:
            options[option] = query[key][-1]
    if options.get("addressing_style") not in (None, "path", "virtual", "auto"):
        raise ImproperlyConfigured(
            f"PRSM_STORAGE_URL={url!r}: addressing is path, virtual or auto."
        )
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
