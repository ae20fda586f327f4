"""The worker side of a step: resolve its input, run its handler, measure it.

Called by the ``run_step`` task after a successful claim. Secrets are decrypted
here, in memory, for the length of the step; what is stored (the resolved input,
the result) passes through the redactor first.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from executions.models import Execution, StepRun
from executions.operations.counters import step_duration_observe
from executions.services import advance, step_runs
from executions.services.step_runs import Usage
from executions.services.tx import Continuation, plan_for
from executions.steps import registry
from executions.steps.base import StepContext, StepError, StepOutput
from workflows.definition.references import ReferenceResolutionError

logger = logging.getLogger(__name__)
WORKER_HOST = socket.gethostname()


def execution_inputs(execution: Execution) -> tuple[dict[str, Any], dict[str, str]]:
    """The inputs references read (secrets merged in) and the secrets alone."""
    from executions.security import decrypt_secrets

    secrets = decrypt_secrets(execution.secrets_encrypted)
    return {**execution.inputs, **secrets}, secrets


def _model_price(model: str, user_id: int | None) -> tuple[Decimal, Decimal]:
    """The prices of the endpoint serving ``model`` to ``user_id``: a team's endpoint
    prices only its members' steps, as only they may use it."""
    from executions.steps.openai_compat import endpoint_price

    return endpoint_price(model, user_id=user_id)


def step_cost(model: str, usage: Usage, *, user_id: int | None = None) -> Decimal:
    """Model tokens × the prices of the endpoint serving ``user_id``, plus compute ×
    the configured unit prices."""
    cost = Decimal(0)
    if model:
        p_in, p_out = _model_price(model, user_id)
        cost += p_in * usage.input_tokens / 1000 + p_out * usage.output_tokens / 1000
    hour = Decimal(3600)
    cost += Decimal(settings.PRSM_PRICE_CPU_HOUR) * Decimal(usage.cpu_seconds) / hour
    ram_gb_seconds = Decimal(usage.memory_mb) / 1024 * Decimal(usage.wall_seconds)
    cost += Decimal(settings.PRSM_PRICE_RAM_GB_HOUR) * ram_gb_seconds / hour
    cost += Decimal(settings.PRSM_PRICE_GPU_HOUR) * Decimal(usage.gpu_seconds) / hour
    return cost.quantize(Decimal("0.000001"))


class _Heartbeats:
    """One thread per worker process beats for the runs this process is running.

    Started on first use and again after a fork; a step only registers and
    unregisters its run (starting a thread per step would cost a thread switch on
    every step's path). The same thread keeps the hard time limit: a run still
    going ``PRSM_STEP_KILL_GRACE_SECONDS`` after its timeout ignored the soft one
    (a C extension that never returns to Python, say), so it is recorded as timed
    out and the worker process is ended; Celery's pool starts a fresh one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[int, tuple[int, float]] = {}  # step run id → attempt, kill time
        self._pid: int | None = None

    def add(self, run: StepRun, *, kill_after: float) -> None:
        with self._lock:
            self._runs[run.pk] = (run.attempt, time.monotonic() + kill_after)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._loop, name="prsm-heartbeat", daemon=True).start()

    def remove(self, run: StepRun) -> None:
        with self._lock:
            self._runs.pop(run.pk, None)

    def _loop(self) -> None:
        from django.db import close_old_connections

        pid = os.getpid()
        while self._pid == pid:
            time.sleep(min(settings.PRSM_HEARTBEAT_SECONDS, settings.PRSM_STEP_KILL_GRACE_SECONDS))
            with self._lock:
                running = list(self._runs.items())
            now = time.monotonic()
            for run_id, (attempt, kill_at) in running:
                try:
                    if now >= kill_at:
                        self._kill(run_id, attempt)
                    step_runs.step_run_heartbeat(step_run_id=run_id, attempt=attempt)
                except Exception:  # a lost connection: the next beat tries again
                    close_old_connections()

    def _still_running(self, run_id: int, attempt: int) -> bool:
        with self._lock:
            return self._runs.get(run_id, (None, 0.0))[0] == attempt

    def _kill(self, run_id: int, attempt: int) -> None:
        """End the process of a step that ignored its timeout, once the timeout is
        recorded; not if the step has finished meanwhile (its outcome stands)."""
        if not self._still_running(run_id, attempt):
            return
        recorded = step_runs.step_run_fail(
            step_run_id=run_id,
            attempt=attempt,
            error_type="timeout",
            message="The step ran past its timeout and did not stop; its worker was ended.",
        )
        if recorded and self._still_running(run_id, attempt):
            logger.error("Step run %s ignored its timeout; ending process %s", run_id, os.getpid())
            os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def _soft_time_limit(seconds: float) -> Iterator[None]:
    """Raise ``SoftTimeLimitExceeded`` in the step if it runs past ``seconds``.

    A timer signal, so only on the main thread (where Celery's prefork pool runs
    tasks); elsewhere the hard limit of ``_Heartbeats`` still applies. Disarmed
    before the outcome is recorded: bookkeeping is never interrupted.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        # None: the previous handler was not set from Python; the default is restored
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


_heartbeats = _Heartbeats()


def _unexpected_error_message(exc: Exception) -> str:
    """What the run records of an error no step function expected. A file system
    error says what went wrong but not where: its file names are server paths."""
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or 'the operating system refused'}"
    return f"{type(exc).__name__}: {exc}"


def step_run_execute(run: StepRun, *, continuation: Continuation | None = None) -> StepRun | None:
    """Run a claimed step run to an outcome and record it (fenced by its attempt).

    With a ``continuation``, returns the next run this worker claimed in the same
    transaction (see ``Continuation``), to be run next; otherwise None.
    """
    from executions.security import Redactor, redaction_scope, seal_result

    execution = run.execution
    plan = plan_for(execution)
    spec = advance.step_spec(plan, run)
    step_type = str(getattr(spec, "type", None) or plan.step(run.step_id).type)
    inputs, secrets = execution_inputs(execution)
    redactor = Redactor(secrets.values())
    sealed = bool(execution.security_config.get("encrypt_intermediate_results"))
    usage = Usage()
    resolved: Any = None
    started_wall, started_cpu = time.monotonic(), time.thread_time()
    limit = advance.step_time_limit(plan, run)
    _heartbeats.add(run, kill_after=limit + settings.PRSM_STEP_KILL_GRACE_SECONDS)
    try:
        with redaction_scope(secrets.values()), _soft_time_limit(limit):
            step = plan.step(run.step_id)
            needs_all = step.type == "aggregation" and spec.input is None and spec.inputs is None
            part = "body" if run.iteration is not None else run.key
            scope = advance.Scope(
                inputs=inputs,
                results=advance.results_of(
                    execution,
                    plan.deps[run.step_id] if needs_all else plan.reads(run.step_id, part, spec),
                ),
                secrets=secrets,
            )
            if run.iteration is not None:
                scope.loop_item, scope.loop_index = run.loop_item, run.iteration
            try:
                ctx = StepContext(
                    execution_id=execution.public_id,
                    step_key=run.key,
                    spec=spec,
                    model=run.model_used or None,
                    input=scope.render(spec.input),
                    inputs=(
                        scope.render(spec.inputs)
                        if spec.inputs is not None
                        # an aggregation that names no inputs combines all it waits for
                        else dict(scope.results)
                        if needs_all
                        else None
                    ),
                    parameters=scope.render(spec.parameters),
                    mock_models=execution.mock_models or {},
                    attempt=run.attempt,
                    user_id=execution.created_by_id,
                )
            except ReferenceResolutionError as exc:
                raise StepError("invalid_input", str(exc)) from None
            resolved = redactor.redact(
                {"input": ctx.input, "inputs": ctx.inputs, "parameters": ctx.parameters}
            )
            if sealed:  # the input holds the previous steps' results: sealed like them
                resolved = seal_result(resolved)
            output: StepOutput = registry.run(ctx)
    except StepError as exc:
        _measure(
            usage, started_wall, started_cpu, run.model_used, step_type, execution.created_by_id
        )
        step_runs.step_run_fail(
            step_run_id=run.pk,
            attempt=run.attempt,
            error_type=exc.error_type,
            message=redactor.redact(exc.message),
            input=resolved,
            usage=usage,
        )
        return None
    except SoftTimeLimitExceeded:
        _measure(
            usage, started_wall, started_cpu, run.model_used, step_type, execution.created_by_id
        )
        step_runs.step_run_fail(
            step_run_id=run.pk,
            attempt=run.attempt,
            error_type="timeout",
            message="The step ran past its timeout.",
            input=resolved,
            usage=usage,
        )
        return None
    except Exception as exc:  # a bug in a function or provider: recorded, not lost
        _measure(
            usage, started_wall, started_cpu, run.model_used, step_type, execution.created_by_id
        )
        step_runs.step_run_fail(
            step_run_id=run.pk,
            attempt=run.attempt,
            error_type="execution_error",
            message=redactor.redact(_unexpected_error_message(exc)),
            input=resolved,
            usage=usage,
        )
        return None
    finally:
        _heartbeats.remove(run)
    usage.input_tokens, usage.output_tokens = output.input_tokens, output.output_tokens
    usage.gpu_seconds = output.gpu_seconds
    _measure(
        usage,
        started_wall,
        started_cpu,
        output.model_used or run.model_used,
        step_type,
        execution.created_by_id,
    )
    result = redactor.redact(output.result)
    if sealed:
        result = seal_result(result)
    return step_runs.step_run_complete(
        step_run_id=run.pk,
        attempt=run.attempt,
        result=result,
        model_used=output.model_used or run.model_used,
        input=resolved,
        usage=usage,
        claimed=run,
        continuation=continuation,
    )


def _measure(
    usage: Usage,
    started_wall: float,
    started_cpu: float,
    model: str,
    step_type: str,
    user_id: int | None,
) -> None:
    usage.wall_seconds = time.monotonic() - started_wall
    # For /metrics, in Redis so that every process reads the same histogram.
    step_duration_observe(step_type=step_type, seconds=usage.wall_seconds)
    usage.cpu_seconds = time.thread_time() - started_cpu
    # Peak resident memory of the worker process while it ran the step (kB on Linux).
    usage.memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    usage.cost = step_cost(model, usage, user_id=user_id)
