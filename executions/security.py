"""Secret inputs, redaction and an execution's ``security_config``.

Secret inputs
    :func:`split_inputs` separates what a caller sent into plain inputs (stored in
    ``Execution.inputs``, shown by the API) and secrets (stored only encrypted, in
    ``Execution.secrets_encrypted`` via :func:`encrypt_secrets`). A secret is

    - a value shaped ``{"type": "secret", "value": ...}`` (the seed's SDK example);
    - a value shaped ``{"type": "encrypted", "value": ...}``. The seed does not say
      what "encrypted" means and we hold no key of the caller's, so the value is
      taken as an opaque string the caller already protected and is handled
      exactly like a secret: encrypted again at rest, never shown, redacted from
      logs and results. Steps receive it as the caller sent it;
    - any input that the workflow's ``input_schema`` declares ``secret: true`` or
      ``type: secret``, even when sent as a bare string.

    A secret's value is a string; any other JSON value (number, list, object) is
    kept as its compact JSON text, because redaction matches text. ``null`` is
    refused. Only top-level inputs are examined: a wrapper nested inside an
    object input is the caller's data, not a secret.

Redaction
    :class:`Redactor` replaces secret values in any JSON-like value, and
    :class:`RedactingFilter` does it for log records using the process-wide
    registry filled by :func:`redaction_scope` while a step runs.

``security_config``
    :func:`validate_security_config` accepts exactly the seed's three booleans,
    and each one does something:

    ``encrypt_intermediate_results``
        The engine stores every ``StepRun.result``, and every ``StepRun.input``
        (the resolved input, which holds the previous steps' results), through
        :func:`seal_result` (``{"__sealed__": "<fernet token>"}``) and reads them
        back through :func:`open_result`, which passes unsealed values through
        unchanged, so readers need not know which executions were sealed. The execution's
        ``final_result`` stays plain: it is what the caller asked for.
    ``audit_logging``
        The engine records an audit row for the execution's lifecycle (who
        started it, with which inputs' *names*, how it ended). The audit log
        lands in a later change; until then the flag is only validated and
        stored — :func:`audit_logging_enabled` is the one place that reads it.
    ``secure_deletion``
        When the execution is terminal the engine calls
        :func:`secure_delete_execution_data`, which blanks the encrypted secrets,
        blanks every step's resolved ``input`` and seals every step ``result``
        still in plain text. See its docstring for what that does and does not
        guarantee.

This module imports no models at import time: ``settings.LOGGING`` may name
:class:`RedactingFilter`, and logging is configured before the app registry is
ready.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from executions.crypto import decrypt_json, encrypt_json

if TYPE_CHECKING:
    from executions.models import Execution

__all__ = [
    "REDACTED",
    "SEALED_KEY",
    "SECURITY_FLAGS",
    "RedactingFilter",
    "Redactor",
    "SecretInputError",
    "SecurityConfigError",
    "SplitInputs",
    "audit_logging_enabled",
    "decrypt_secrets",
    "encrypt_secrets",
    "is_sealed",
    "open_result",
    "redaction_scope",
    "seal_result",
    "secure_delete_execution_data",
    "split_inputs",
    "validate_security_config",
]

REDACTED = "[REDACTED]"
#: Secrets shorter than this are redacted only where a whole string equals them.
#: Substring-matching "a" or "no" would shred every log line and result while
#: protecting nothing: a 1-3 character secret is guessable anyway.
MIN_SUBSTRING_SECRET_LENGTH = 4
SECRET_INPUT_TYPES = frozenset({"secret", "encrypted"})
SEALED_KEY = "__sealed__"


# --------------------------------------------------------------------------- inputs


class SecretInputError(ValueError):
    """A secret input is malformed; ``field`` names it (``inputs.NAME``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class SplitInputs:
    """The caller's inputs, separated.

    ``plain`` is safe to store and show: each secret's value is replaced by
    ``{"type": "secret", "redacted": True}``. ``secrets`` maps input name → value
    (text) and must only be stored through :func:`encrypt_secrets`.
    """

    plain: dict[str, Any]
    secrets: dict[str, str]
    secret_names: list[str] = field(default_factory=list)


def secret_placeholder() -> dict[str, Any]:
    return {"type": "secret", "redacted": True}


def split_inputs(
    raw: dict[str, Any], *, input_schema: Mapping[str, Any] | None = None
) -> SplitInputs:
    """Separate secret inputs from plain ones (see the module docstring).

    ``input_schema`` is the definition's ``input_schema``: name → spec, where a
    spec is a dict (or an object such as ``InputSpec``) with ``type`` and
    ``secret``. Validate inputs against the schema *before* splitting: the plain
    dict holds placeholders where secrets were.

    Raises :class:`SecretInputError` for a wrapper without a value, with extra
    keys, with a ``null`` value, or for a redacted placeholder sent back (the
    value is gone; the caller must send it again).
    """
    if not isinstance(raw, dict):
        raise SecretInputError("inputs", "must be an object")
    declared = _declared_secret_names(input_schema)
    plain: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for name, value in raw.items():
        where = f"inputs.{name}"
        if isinstance(value, dict) and value.get("type") in SECRET_INPUT_TYPES:
            if value.get("redacted") is True and "value" not in value:
                raise SecretInputError(
                    where, "this is the placeholder of a redacted secret; send its value again"
                )
            extra = sorted(set(value) - {"type", "value"})
            if extra:
                # Refuse rather than guess: treating it as plain would store the
                # value in clear text.
                raise SecretInputError(
                    where,
                    f"a {value['type']} input is {{'type', 'value'}}; unexpected "
                    f"key(s): {', '.join(map(str, extra))}",
                )
            if "value" not in value:
                raise SecretInputError(where, f"a {value['type']} input needs a 'value'")
            secrets[name] = _secret_text(where, value["value"])
        elif name in declared:
            secrets[name] = _secret_text(where, value)
        else:
            plain[name] = value
            continue
        plain[name] = secret_placeholder()
    return SplitInputs(plain=plain, secrets=secrets, secret_names=list(secrets))


def _declared_secret_names(input_schema: Mapping[str, Any] | None) -> set[str]:
    names: set[str] = set()
    for name, spec in (input_schema or {}).items():
        if isinstance(spec, Mapping):
            kind, flag = spec.get("type"), spec.get("secret")
        else:
            kind, flag = getattr(spec, "type", None), getattr(spec, "secret", None)
        if flag is True or kind == "secret":
            names.add(name)
    return names


def _secret_text(where: str, value: Any) -> str:
    if value is None:
        raise SecretInputError(where, "a secret's value cannot be null")
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        raise SecretInputError(where, "a secret's value must be a string or JSON") from None


def encrypt_secrets(secrets: Mapping[str, str]) -> str:
    """The text to store in ``Execution.secrets_encrypted`` ("" when there are none)."""
    return encrypt_json(dict(secrets)) if secrets else ""


def decrypt_secrets(token: str) -> dict[str, str]:
    """The secrets stored by :func:`encrypt_secrets`; ``{}`` for "".

    Raises ``crypto.DecryptionFailed`` when no configured key opens the token.
    """
    if not token:
        return {}
    value = decrypt_json(token)
    if not isinstance(value, dict):
        raise ValueError("secrets_encrypted does not hold an object")
    return {str(k): str(v) for k, v in value.items()}


# --------------------------------------------------------------------------- redaction


class Redactor:
    """Replaces secret values with ``"[REDACTED]"`` anywhere in a JSON-like value.

    Strings equal to a secret are replaced whatever the secret's length; secrets
    of at least :data:`MIN_SUBSTRING_SECRET_LENGTH` characters are also replaced
    inside longer strings, including their JSON-escaped form (so a secret with a
    quote or non-ASCII character is caught inside serialized JSON too). Dict
    keys are redacted like values (two keys that both redact collapse into one).
    Lists and tuples come back as lists; numbers whose text contains a secret
    become ``"[REDACTED]"``; other values pass through.
    """

    def __init__(self, secret_values: Iterable[str]) -> None:
        values = {v for v in secret_values if isinstance(v, str) and v}
        self._exact = frozenset(values)
        needles: set[str] = set()
        for v in values:
            if len(v) >= MIN_SUBSTRING_SECRET_LENGTH:
                needles.add(v)
                needles.add(json.dumps(v)[1:-1])  # the escaped form, if different
                needles.add(json.dumps(v, ensure_ascii=False)[1:-1])
        # Longest first, so a secret that contains another is replaced whole.
        ordered = sorted(needles, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return bool(self._exact)

    def redact_text(self, text: str) -> str:
        if text in self._exact:
            return REDACTED
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def redact(self, value: Any) -> Any:
        if not self._exact:
            return value
        return self._redact(value)

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return {self._redact(k): self._redact(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._redact(v) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = str(value)
            return REDACTED if self.redact_text(text) != text else value
        return value


# The process-wide registry of secret values to keep out of log lines. A
# multiset: two steps of one execution (or two executions sharing a value) may
# register the same value, and leaving one scope must not unregister it for the
# other. Process-wide rather than per-thread on purpose: a step's secret can be
# logged from another thread (an HTTP client's pool, a library's worker), and
# redacting it from some unrelated thread's line costs nothing.
_registry_lock = threading.Lock()
_registry: Counter[str] = Counter()
_registry_redactor: Redactor = Redactor(())


@contextmanager
def redaction_scope(values: Iterable[str]) -> Iterator[Redactor]:
    """Redact ``values`` from every log record (through :class:`RedactingFilter`)
    while the block runs; yields a :class:`Redactor` for the same values, for
    redacting results and errors before they are stored."""
    global _registry_redactor
    added = [v for v in values if isinstance(v, str) and v]
    with _registry_lock:
        _registry.update(added)
        _registry_redactor = Redactor(_registry)
    try:
        yield Redactor(added)
    finally:
        with _registry_lock:
            _registry.subtract(added)
            for v in added:
                if _registry[v] <= 0:
                    del _registry[v]
            _registry_redactor = Redactor(_registry)


def active_redactor() -> Redactor:
    """A redactor for every value currently registered by :func:`redaction_scope`."""
    return _registry_redactor


class RedactingFilter(logging.Filter):
    """Removes registered secret values from log records; never drops a record.

    Attach it to *handlers* (a logger's filters do not see records propagated
    from child loggers)::

        LOGGING["filters"] = {"redact_secrets": {"()": "executions.security.RedactingFilter"}}
        LOGGING["handlers"]["console"]["filters"] = ["redact_secrets"]

    When the formatted message contains a secret, the record's ``msg`` becomes
    the redacted formatted message and ``args`` is emptied: that also covers
    arguments whose ``str()`` reveals a secret. Exception and stack text is
    formatted here and redacted, and formatters reuse it (``exc_text``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = _registry_redactor
        if not redactor:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: redact the parts instead
            record.msg = redactor.redact(record.msg)
            if isinstance(record.args, Mapping):
                record.args = redactor.redact(dict(record.args))
            elif isinstance(record.args, tuple):
                record.args = tuple(redactor.redact(list(record.args)))
        else:
            redacted = redactor.redact_text(message)
            if redacted != message:
                record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.redact_text(record.stack_info)
        return True


# --------------------------------------------------------------------------- security_config


SECURITY_FLAGS: tuple[str, ...] = (
    "encrypt_intermediate_results",
    "audit_logging",
    "secure_deletion",
)


class SecurityConfigError(ValueError):
    """``security_config`` is invalid; ``field`` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def validate_security_config(cfg: Any) -> dict[str, bool]:
    """The normalized config: all three flags, each ``True`` or ``False``.

    ``None`` or ``{}`` means all off. Unknown keys and non-boolean values raise
    :class:`SecurityConfigError`, so no setting a caller relies on is ignored.
    """
    if cfg is None:
        cfg = {}
    if not isinstance(cfg, dict):
        raise SecurityConfigError("security_config", "must be an object")
    for key in cfg:
        if key not in SECURITY_FLAGS:
            raise SecurityConfigError(
                f"security_config.{key}",
                f"unknown setting; expected one of: {', '.join(SECURITY_FLAGS)}",
            )
    result: dict[str, bool] = {}
    for key in SECURITY_FLAGS:
        value = cfg.get(key, False)
        if not isinstance(value, bool):
            raise SecurityConfigError(f"security_config.{key}", "must be true or false")
        result[key] = value
    return result


def audit_logging_enabled(cfg: Mapping[str, Any] | None) -> bool:
    """Whether the execution asked for audit records (stored config; see module doc)."""
    return bool((cfg or {}).get("audit_logging"))


def seal_result(value: Any) -> dict[str, str]:
    """``value`` encrypted for storage in a JSON column: ``{"__sealed__": token}``."""
    return {SEALED_KEY: encrypt_json(value)}


def is_sealed(stored: Any) -> bool:
    return isinstance(stored, dict) and len(stored) == 1 and isinstance(stored.get(SEALED_KEY), str)


def open_result(stored: Any) -> Any:
    """The value behind :func:`seal_result`; any other value is returned unchanged.

    Raises ``crypto.DecryptionFailed`` if the sealing key has been removed.
    """
    if is_sealed(stored):
        return decrypt_json(stored[SEALED_KEY])
    return stored


def secure_delete_execution_data(execution: Execution) -> dict[str, int]:
    """Remove the plain-text and decryptable copies of an execution's sensitive data.

    Call it once the execution is terminal and ``security_config.secure_deletion``
    is on (raises ``ValueError`` if it is still active: steps may need the
    secrets). In one transaction it

    1. blanks ``Execution.secrets_encrypted`` — the only stored copy of the secret
       values (``inputs`` keeps the placeholders, so the API still lists them). A
       resume of this execution must be given its secrets again;
    2. sets every ``StepRun.input`` (the resolved inputs — already redacted of
       secrets, but plain copies of upstream data) to ``None``;
    3. seals every ``StepRun.result`` still in plain text, so intermediate data
       exists at rest only as ciphertext (already-sealed results are left as
       they are). Results stay readable through :func:`open_result`; the
       execution's ``final_result``, statuses, costs and errors are untouched.

    What it cannot do: erase old row versions from the database files, its
    write-ahead log or backups (PostgreSQL keeps dead tuples until VACUUM). It
    removes *our* copies; storage-level erasure is the operator's job.

    Expects no lock; takes none beyond the rows it updates. Returns counts.
    """
    from django.db import transaction

    from executions.models import EXECUTION_TERMINAL, Execution, StepRun

    if execution.status not in EXECUTION_TERMINAL:
        raise ValueError(
            f"{execution.public_id} is {execution.status}: secure deletion waits until it ends"
        )
    with transaction.atomic():
        Execution.objects.filter(pk=execution.pk).update(secrets_encrypted="")
        inputs_cleared = (
            StepRun.objects.filter(execution_id=execution.pk)
            .exclude(input__isnull=True)
            .update(input=None)
        )
        to_seal = []
        for run in StepRun.objects.filter(execution_id=execution.pk).only("pk", "result"):
            if run.result is not None and not is_sealed(run.result):
                run.result = seal_result(run.result)
                to_seal.append(run)
        StepRun.objects.bulk_update(to_seal, ["result"], batch_size=200)
    execution.secrets_encrypted = ""
    return {"inputs_cleared": inputs_cleared, "results_sealed": len(to_seal)}
