"""Encryption at rest for secret inputs and sealed step results.

Values are JSON-encoded, then encrypted with Fernet (AES-128-CBC + HMAC-SHA256,
with a timestamp) through a ``MultiFernet`` over ``settings.PRSM_ENCRYPTION_KEYS``:

- the **first** key encrypts; **any** key decrypts, so rotating is "put a new key
  first, keep the old ones until ``reencrypt`` has moved every token, then drop
  them";
- a token no listed key can open raises :class:`DecryptionFailed`, whose message
  says the likely cause (its key was removed from the setting).

The ``MultiFernet`` is built on first use and rebuilt whenever the setting's value
changes, so ``override_settings`` / the pytest ``settings`` fixture take effect
without a process restart. Comparing a tuple of a few short strings on each call
is far cheaper than the encryption itself.

This module imports no models, so logging configuration and pure code can use it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["DecryptionFailed", "decrypt_json", "encrypt_json", "reencrypt"]


class DecryptionFailed(Exception):
    """A token could not be decrypted with any key in ``PRSM_ENCRYPTION_KEYS``."""

    def __init__(self, detail: str = "") -> None:
        message = (
            "The stored value could not be decrypted with any key in "
            "PRSM_ENCRYPTION_KEYS: the key that encrypted it was probably removed "
            "from the setting (keep old keys after the new one until every value "
            "has been re-encrypted), or the value is corrupt."
        )
        super().__init__(f"{message} ({detail})" if detail else message)


_lock = threading.Lock()
_cached: tuple[tuple[str, ...], MultiFernet] | None = None


def _normalized_keys() -> tuple[str, ...]:
    raw = getattr(settings, "PRSM_ENCRYPTION_KEYS", None) or ()
    if isinstance(raw, (str, bytes)):
        # A single key given as a string, not a list: accept it rather than
        # iterate over its characters.
        raw = [raw]
    keys = tuple(k.decode() if isinstance(k, bytes) else str(k) for k in raw)
    if not keys:
        raise ImproperlyConfigured(
            "PRSM_ENCRYPTION_KEYS is empty: at least one Fernet key is needed."
        )
    return keys


def _fernet() -> MultiFernet:
    global _cached
    keys = _normalized_keys()
    cached = _cached
    if cached is not None and cached[0] == keys:
        return cached[1]
    with _lock:
        if _cached is None or _cached[0] != keys:
            try:
                multi = MultiFernet([Fernet(k) for k in keys])
            except (ValueError, TypeError) as exc:
                raise ImproperlyConfigured(
                    "PRSM_ENCRYPTION_KEYS holds a value that is not a Fernet key."
                ) from exc
            _cached = (keys, multi)
        return _cached[1]


def encrypt_json(value: Any) -> str:
    """Encrypt any JSON-serializable ``value`` with the newest key; returns ASCII text."""
    plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return _fernet().encrypt(plain).decode("ascii")


def decrypt_json(token: str) -> Any:
    """Decrypt a token made by :func:`encrypt_json` with whichever listed key opens it."""
    try:
        plain = _fernet().decrypt(_token_bytes(token))
    except InvalidToken:
        raise DecryptionFailed() from None
    return json.loads(plain)


def reencrypt(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (``MultiFernet.rotate``).

    Run it over every stored token after putting a new key first; afterwards the
    old keys can be removed. The original encryption timestamp is replaced.
    """
    try:
        return _fernet().rotate(_token_bytes(token)).decode("ascii")
    except InvalidToken:
        raise DecryptionFailed() from None


def _token_bytes(token: str) -> bytes:
    if not isinstance(token, str) or not token:
        raise DecryptionFailed("the value is empty or not text")
    try:
        return token.encode("ascii")
    except UnicodeEncodeError:
        raise DecryptionFailed("the value is not a Fernet token") from None
