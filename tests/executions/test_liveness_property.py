"""Liveness, as a property: every generated run ends, and its record is sound.

For random valid definitions (``tests.strategies.runs``: up to 30 steps of every
type, nested composites, ``max_parallel_steps`` 1..10, failing and flaky models,
retries, fallbacks, each error-handler rule, cancels) each run must:

- reach a terminal status, never by the reaper's stall backstop;
- leave every step run terminal;
- have recorded, for each step run, events (by ``step_key``, in ``seq`` order)
  whose ``(type, payload["status"])`` moves follow the transition table from
  ``pending`` and end at the row's status; and for the execution, events that
  follow ``EXECUTION_TRANSITIONS`` from ``queued`` to its status;
- number its events 1..n, each once.

Two tiers (CI runs both on SQLite and on PostgreSQL + Redis):

- **in process**, ``IN_PROCESS_EXAMPLES`` examples: the real services, with the
  broker replaced by a list. ``dispatch.publish_step_runs`` appends to it, and the
  test delivers the messages as a worker would (``step_run_claim``, then
  ``runner.step_run_execute``, as ``tasks.run_step`` does), in a random order,
  some twice, some with a continuation, each once its countdown is due. A queue
  that empties while the run is open is a hang, found at once.
- **through the real worker**, ``WORKER_EXAMPLES`` examples: the same generator,
  through the API and a Celery worker, each run bounded by ``WORKER_WAIT_SECONDS``.

``LIVENESS_EXAMPLES`` (an environment variable) multiplies both counts, for a
longer search on a developer's machine. Hypothesis is derandomized (the same
examples on every run) and keeps no example database in the tree.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from random import Random
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from executions.core import states
from executions.core.states import EXECUTION_TERMINAL, STEP_TERMINAL
from executions.models import Execution, ExecutionEvent, StepRun
from executions.services import dispatch, reaper, runner, step_runs
from executions.services.lifecycle import ExecutionFinished, execution_cancel
from executions.services.tx import Continuation
from tests.conftest import client_for
from tests.executions.helpers import create_workflow
from tests.strategies import GeneratedRun, runs

SCALE = int(os.environ.get("LIVENESS_EXAMPLES", "1"))
IN_PROCESS_EXAMPLES = 300 * SCALE
WORKER_EXAMPLES = 8 * SCALE
WORKER_WAIT_SECONDS = 60
# More deliveries than any generated run needs (30 steps, loops of at most 4
# items, a few attempts each): past this the engine is looping, not live.
MAX_DELIVERIES = 5000
HOST = "in-process"

COMMON = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one database per test; each example its own run
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# --- what every finished run must satisfy ----------------------------------------------


def _statuses(execution: Execution) -> str:
    rows = StepRun.objects.filter(execution=execution).order_by("id")
    return ", ".join(f"{r.key}={r.status}" for r in rows)


def assert_run_sound(execution: Execution) -> None:
    """The run ended (not as stalled), every step run ended, and the event log is
    complete, numbered 1..n, and follows the transition tables to the rows' statuses."""
    execution.refresh_from_db()
    assert execution.status in EXECUTION_TERMINAL, f"{execution.status}: {_statuses(execution)}"
    error = execution.error or {}
    assert error.get("type") != "stalled", f"the reaper had to end it: {error}"
    rows = {r.key: r for r in StepRun.objects.filter(execution=execution)}
    still_open = {k: r.status for k, r in rows.items() if r.status not in STEP_TERMINAL}
    assert not still_open, f"steps left open in a {execution.status} run: {still_open}"

    log = list(ExecutionEvent.objects.filter(execution=execution).order_by("seq", "id"))
    seqs = [e.seq for e in log]
    repeated = sorted(seq for seq, n in Counter(seqs).items() if n > 1)
    assert not repeated, f"event seqs recorded more than once: {repeated}"
    assert seqs == list(range(1, len(log) + 1)), f"event seqs with a gap: {seqs}"
    assert execution.event_seq == len(log), (execution.event_seq, len(log))

    by_step: dict[str, list[tuple[str, str]]] = defaultdict(list)
    moves: list[tuple[str, str]] = []
    for e in log:
        if e.step_key:
            assert e.step_key in rows, f"event {e.seq} {e.type} names no step run {e.step_key}"
            by_step[e.step_key].append((e.type, e.payload["status"]))
        elif "status" in e.payload:  # a transition (others, such as notes, move nothing)
            moves.append((e.type, e.payload["status"]))
    for key, run in rows.items():
        try:
            reached = states.replay_step(by_step[key])
        except states.IllegalTransition as exc:
            raise AssertionError(f"{key}: {exc}; its events: {by_step[key]}") from None
        assert reached == run.status, f"{key}: events end at {reached}, the row is {run.status}"
    current: str = states.ExecutionStatus.QUEUED
    for event_type, status in moves:
        states.execution_move(current, status, event_type)  # IllegalTransition if not
        current = status
    assert current == execution.status, f"execution events {moves} end at {current}"
    event(f"outcome: {execution.status} {error.get('type') or ''}".strip())
    happened = {e.type for e in log}
    for kind in ("step.retrying", "step.fallback", "step.skipped", "step.cancelled"):
        event(f"{kind}: {'yes' if kind in happened else 'no'}")


def _describe(generated: GeneratedRun) -> None:
    note(json.dumps(generated.test_body() | {"definition": generated.definition}, indent=1))
    note(f"cancel at: {generated.cancel_at}")
    for name, n in generated.shape.items():
        event(f"{name}: {'0' if n == 0 else '1-3' if n <= 3 else '4+'}")


def _start(user: Any, generated: GeneratedRun) -> Execution:
    """Create the workflow (the API validates the definition: 201 or a failed
    test naming the problem) and start its test run."""
    wf = create_workflow(user, generated.definition)
    response = client_for(user).post(
        f"/api/v1/workflows/{wf}/test", generated.test_body(), format="json"
    )
    assert response.status_code == 201, response.content
    return Execution.objects.get(public_id=response.json()["execution_id"])


# --- tier 1: in process, the broker a list ---------------------------------------------


@dataclass
class Message:
    dispatch: Any  # a ``tx.Dispatch``
    due: float  # time.monotonic()


@dataclass
class ListBroker:
    """Stands in for Redis: the dispatches the engine publishes, delivered by the test."""

    messages: list[Message] = field(default_factory=list)

    def publish(self, dispatches: Any) -> None:
        now = time.monotonic()
        for d in dispatches:
            self.messages.append(Message(d, now + (d.countdown or 0)))

    def next_due(self, rng: Random) -> Message:
        """A message whose countdown has passed (waiting for the first, if none has)."""
        earliest = min(m.due for m in self.messages)
        wait = earliest - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        now = time.monotonic()
        return rng.choice([m for m in self.messages if m.due <= now])


def deliver(d: Any, *, continue_for: float | None) -> None:
    """What ``tasks.run_step`` does with a message: claim, then run (and, with a
    continuation window, go on with the steps this worker claims for itself)."""
    run = step_runs.step_run_claim(
        step_run_id=d.run_id, execution_pk=d.execution_pk, worker_host=HOST, task_id=d.task_id
    )
    continuation = (
        Continuation(
            queue=d.queue,
            task_id=d.task_id,
            worker_host=HOST,
            window_ends=time.monotonic() + continue_for,
        )
        if continue_for is not None and run is not None
        else None
    )
    while run is not None:
        run = runner.step_run_execute(run, continuation=continuation)


@pytest.fixture
def list_broker(
    transactional_db: Any, redis_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> ListBroker:
    """The engine in this process, publishing into a list.

    Committed transactions (``transactional_db``), so ``on_commit`` publishes as in
    production. The heartbeat thread stays asleep: the steps take milliseconds,
    and a thread that touched the database could outlive the test database.
    """
    settings.PRSM_HEARTBEAT_SECONDS = settings.PRSM_STEP_KILL_GRACE_SECONDS = 3600
    broker = ListBroker()
    original = dispatch.publish_step_runs
    for module in list(sys.modules.values()):  # wherever the name was imported
        name = getattr(module, "__name__", "")
        if name.startswith("executions") and getattr(module, "publish_step_runs", None) is original:
            monkeypatch.setattr(module, "publish_step_runs", broker.publish)
    return broker


@settings(COMMON, max_examples=IN_PROCESS_EXAMPLES)
@given(generated=runs(max_steps=30), data=st.data())
def test_every_generated_run_ends_in_process(
    list_broker: ListBroker, alice: Any, generated: GeneratedRun, data: Any
) -> None:
    _describe(generated)
    # The order of deliveries: a seeded generator of its own, since how many
    # choices a run makes depends on timing (countdowns, continuation windows).
    rng = Random(data.draw(st.integers(min_value=0, max_value=2**32), label="delivery seed"))
    duplicates = data.draw(st.booleans(), label="duplicate some messages")
    continue_for = data.draw(st.sampled_from([None, 0.5]), label="continuation window")
    list_broker.messages.clear()
    execution = _start(alice, generated)
    delivered = 0
    while list_broker.messages:
        if delivered == generated.cancel_at:
            try:
                execution_cancel(execution=execution)
            except ExecutionFinished:
                pass
        message = list_broker.next_due(rng)
        if not (duplicates and rng.random() < 0.1):  # else it is delivered again later
            list_broker.messages.remove(message)
        deliver(message.dispatch, continue_for=continue_for)
        delivered += 1
        assert delivered <= MAX_DELIVERIES, f"{delivered} deliveries: {_statuses(execution)}"
    execution.refresh_from_db()
    if execution.status not in EXECUTION_TERMINAL:
        steps = _statuses(execution)
        counts = reaper.reap()  # the backstop must catch it (but no run may need it)
        execution.refresh_from_db()
        pytest.fail(
            f"a hang: no message left after {delivered} deliveries, the execution is "
            f"running with steps {steps}; the reaper then: {counts}, "
            f"{execution.status} {execution.error}"
        )
    assert_run_sound(execution)


# --- tier 2: the real worker -------------------------------------------------------------


@settings(
    COMMON,
    max_examples=WORKER_EXAMPLES,
    # A failing example is not shrunk: each try is a real run, a hang a whole wait.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(generated=runs(max_steps=20))
def test_every_generated_run_ends_on_the_worker(
    worker: Any, alice: Any, generated: GeneratedRun
) -> None:
    from tests.engine import wait_for

    _describe(generated)
    execution = _start(alice, generated)
    if generated.cancel_at is not None:
        time.sleep(generated.cancel_at / 100)
        wf = execution.workflow.public_id
        response = client_for(alice).post(
            f"/api/v1/workflows/{wf}/executions/{execution.public_id}/cancel"
        )
        assert response.status_code in (200, 409), response.content

    def finished() -> bool:
        connection.close()  # the worker's commits, not a stale snapshot
        execution.refresh_from_db()
        return execution.status in EXECUTION_TERMINAL

    try:
        wait_for(finished, timeout=WORKER_WAIT_SECONDS, message=execution.public_id)
    except AssertionError:
        pytest.fail(
            f"{execution.public_id} still {execution.status} after {WORKER_WAIT_SECONDS} s; "
            f"steps: {_statuses(execution)}"
        )
    assert_run_sound(execution)
