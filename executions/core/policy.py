"""What to do when a step fails: retry, fall back, skip or fail the workflow.

Order of precedence, for an error of type ``T`` on a step using model ``M``:

1. The first ``error_handlers`` rule for ``T`` (and this step, if the rule names
   steps): ``wait_and_retry`` retries after ``wait_seconds`` up to ``max_attempts``
   attempts on this model; ``use_fallback`` switches to ``fallback_model`` or the
   next model of the fallback chain; ``skip_step``; ``fail_workflow``.
2. The retry policy: ``retry_policy`` (retries the listed error types) or the
   simple form ``retry_failed_steps`` + ``max_retries`` (retries every error type
   but ``invalid_input`` and ``model_unavailable``, which a retry cannot cure).
   The n-th retry waits ``retry_delay_seconds × backoff_multiplier^(n-1)``.
   Retries are counted per model: a fallback model gets its own retries.
3. The fallback chain (``fallback_models`` / ``fallback_strategy``), for steps
   that name a model.
4. Otherwise the step fails, and with it the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from workflows.definition.schema import ErrorHandling

ActionName = Literal["retry", "fallback", "skip", "fail"]
NOT_RETRIED_BY_SIMPLE_FORM = frozenset({"invalid_input", "model_unavailable"})


@dataclass(frozen=True)
class Decision:
    action: ActionName
    delay_seconds: float = 0.0
    model: str | None = None
    reason: str = ""
    max_attempts: int | None = None  # a retry: how many attempts the model gets in all


def _fallback(
    handling: ErrorHandling, model: str | None, tried: tuple[str, ...], preferred: str | None
) -> str | None:
    if model is None:
        return None
    if preferred and preferred not in tried:
        return preferred
    for candidate in handling.fallback_chain(model):
        if candidate not in tried:
            return candidate
    return None


def decide(
    handling: ErrorHandling | None,
    *,
    step_id: str,
    error_type: str,
    model: str | None,
    attempts_on_model: int,
    models_tried: tuple[str, ...] = (),
) -> Decision:
    """Decide the next move after the ``attempts_on_model``-th failed attempt on ``model``."""
    if handling is None:
        return Decision("fail", reason="no error handling configured")
    tried = (*models_tried, *((model,) if model else ()))

    for rule in handling.error_handlers:
        if rule.on != error_type or (rule.steps is not None and step_id not in rule.steps):
            continue
        if rule.action == "skip_step":
            return Decision("skip", reason=f"error handler: skip on {error_type}")
        if rule.action == "fail_workflow":
            return Decision("fail", reason=f"error handler: fail on {error_type}")
        if rule.action == "wait_and_retry":
            limit = rule.max_attempts or max(_retry_limit(handling), 1) + 1
            if attempts_on_model < limit:
                return Decision(
                    "retry",
                    delay_seconds=rule.wait_seconds or 0.0,
                    reason=f"error handler: wait and retry on {error_type}",
                    max_attempts=limit,
                )
            break  # attempts used up: fall through to fallbacks
        if rule.action == "use_fallback":
            nxt = _fallback(handling, model, tried, rule.fallback_model)
            if nxt:
                return Decision(
                    "fallback", model=nxt, reason=f"error handler: fallback on {error_type}"
                )
            return Decision("fail", reason=f"no fallback model left after {error_type}")

    if _retries_error(handling, error_type) and attempts_on_model <= _retry_limit(handling):
        return Decision(
            "retry",
            delay_seconds=_delay(handling, attempts_on_model),
            reason=f"retry {attempts_on_model} of {_retry_limit(handling)} after {error_type}",
            max_attempts=_retry_limit(handling) + 1,
        )
    nxt = _fallback(handling, model, tried, None)
    if nxt:
        return Decision(
            "fallback", model=nxt, reason=f"falling back from {model} after {error_type}"
        )
    return Decision("fail", reason=f"{error_type} and no retry or fallback left")


def _retry_limit(handling: ErrorHandling) -> int:
    if handling.retry_policy is not None:
        return handling.retry_policy.max_retries
    return handling.max_retries if handling.retry_failed_steps else 0


def _retries_error(handling: ErrorHandling, error_type: str) -> bool:
    if handling.retry_policy is not None:
        return error_type in handling.retry_policy.retry_on_errors
    return handling.retry_failed_steps and error_type not in NOT_RETRIED_BY_SIMPLE_FORM


def _delay(handling: ErrorHandling, retry_number: int) -> float:
    policy = handling.retry_policy
    if policy is None:
        return 0.0
    return float(policy.retry_delay_seconds * policy.backoff_multiplier ** (retry_number - 1))
