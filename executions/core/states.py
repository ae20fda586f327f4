"""The states of an execution and of its step runs, and every legal move between them.

Pure: no Django. ``executions.services.transitions`` is the one place that applies
these moves to rows; everything else asks it to. A move is legal if its
``(source, target, event)`` triple is in the table; a caller whose view of the
status is stale (a duplicate message, a late worker) changes nothing.

A step run is created ``pending`` (or ``completed`` when a resumed execution
reuses an earlier result). Leaves move ``pending → ready → queued → running →
completed``; a composite (loop, conditional) moves ``pending → waiting →
completed`` while its children run. ``waiting`` holds no ``max_parallel_steps``
slot: the limit counts leaf work only (``SLOT_HOLDING``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class _Status(StrEnum):
    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """``(value, label)`` pairs for a Django field or a form."""
        return [(m.value, m.value.replace("_", " ").capitalize()) for m in cls]

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]


class ExecutionStatus(_Status):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class StepStatus(_Status):
    PENDING = "pending"  # waits for its dependencies
    READY = "ready"  # dependencies done; waits for a parallel slot
    QUEUED = "queued"  # a message is on its queue
    RUNNING = "running"  # a worker runs it
    WAITING = "waiting"  # a composite whose children run; holds no slot
    RETRYING = "retrying"  # a failed attempt; the next is due at next_attempt_at
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


EXECUTION_TERMINAL = frozenset(
    {
        ExecutionStatus.COMPLETED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
        ExecutionStatus.TIMED_OUT,
    }
)
STEP_TERMINAL = frozenset(
    {StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)
# Leaf work that holds one of the execution's ``max_parallel_steps`` slots.
SLOT_HOLDING = frozenset({StepStatus.QUEUED, StepStatus.RUNNING, StepStatus.RETRYING})
STEP_ACTIVE = SLOT_HOLDING  # (the name older code uses)
STEP_OPEN = frozenset(StepStatus) - STEP_TERMINAL


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    event: str


def _moves(rows: Iterable[tuple[Iterable[str], str, str]]) -> frozenset[Transition]:
    return frozenset(
        Transition(source, target, event) for sources, target, event in rows for source in sources
    )


S = StepStatus
STEP_TRANSITIONS = _moves(
    [
        ([S.PENDING], S.READY, "step.ready"),  # waits for a slot; a loop item or branch freed
        ([S.PENDING, S.READY], S.QUEUED, "step.queued"),  # dispatched
        ([S.PENDING], S.WAITING, "step.waiting"),  # a composite started its children
        ([S.PENDING], S.SKIPPED, "step.skipped"),  # a branch not taken, an upstream not run
        ([S.PENDING], S.COMPLETED, "step.completed"),  # a loop over an empty list
        ([S.PENDING], S.FAILED, "step.failed"),  # a composite that cannot start
        ([S.QUEUED, S.RETRYING], S.RUNNING, "step.running"),  # claimed by a worker
        ([S.QUEUED], S.FAILED, "step.failed"),  # no worker took it within queue_timeout
        ([S.RUNNING], S.COMPLETED, "step.completed"),
        ([S.RUNNING], S.FAILED, "step.failed"),
        ([S.RUNNING], S.RETRYING, "step.retrying"),
        ([S.RUNNING], S.QUEUED, "step.fallback"),  # the next model, at once
        ([S.RUNNING], S.QUEUED, "step.queued"),  # its worker was lost: run it again
        ([S.RUNNING], S.SKIPPED, "step.skipped"),  # an error rule said skip_step
        ([S.WAITING], S.COMPLETED, "step.completed"),  # every child finished
        (STEP_OPEN, S.CANCELLED, "step.cancelled"),  # the execution ended
    ]
)
E = ExecutionStatus
EXECUTION_TRANSITIONS = _moves(
    [
        ([E.QUEUED], E.RUNNING, "execution.started"),
        ([E.QUEUED, E.RUNNING], E.COMPLETED, "execution.completed"),
        ([E.QUEUED, E.RUNNING], E.FAILED, "execution.failed"),
        ([E.QUEUED, E.RUNNING], E.CANCELLED, "execution.cancelled"),
        ([E.QUEUED, E.RUNNING], E.TIMED_OUT, "execution.timed_out"),
    ]
)
del S, E

# The status a new row starts in (a loop's iterations start ready or pending; a
# resumed execution's reused results completed), and the event of a new execution.
STEP_INITIAL = frozenset({StepStatus.PENDING, StepStatus.READY, StepStatus.COMPLETED})
# Events that record something other than a move (the status does not change).
NOTE_EVENTS = frozenset({"execution.dispatch_deferred"})
EVENT_TYPES = frozenset(t.event for t in STEP_TRANSITIONS | EXECUTION_TRANSITIONS) | NOTE_EVENTS
EXECUTION_STARTED = Transition(ExecutionStatus.QUEUED, ExecutionStatus.RUNNING, "execution.started")


class IllegalTransition(Exception):
    """A move the table does not allow: a bug in the caller, never a stale message
    (a stale caller finds the status changed and moves nothing)."""


def step_move(source: str, target: str, event: str) -> Transition:
    """The step-run transition, or ``IllegalTransition``."""
    move = Transition(source, target, event)
    if move not in STEP_TRANSITIONS:
        raise IllegalTransition(f"step run: {source} → {target} ({event}) is not a legal move")
    return move


def execution_move(source: str, target: str, event: str) -> Transition:
    """The execution transition, or ``IllegalTransition``."""
    move = Transition(source, target, event)
    if move not in EXECUTION_TRANSITIONS:
        raise IllegalTransition(f"execution: {source} → {target} ({event}) is not a legal move")
    return move


def step_sources(target: str, event: str) -> frozenset[str]:
    """The statuses a step run may leave for ``target`` with ``event``: the guard of
    a conditional update."""
    return frozenset(t.source for t in STEP_TRANSITIONS if t.target == target and t.event == event)


def replay_step(statuses: Iterable[tuple[str, str]], *, initial: str = StepStatus.PENDING) -> str:
    """Follow ``(event, status)`` pairs of one step run from ``initial``; the status
    reached, or ``IllegalTransition`` at the first move not in the table."""
    current = initial
    for event, status in statuses:
        step_move(current, status, event)
        current = status
    return current


def mermaid() -> str:
    """The step-run table as a Mermaid state diagram (``docs/architecture.md``)."""
    lines = ["stateDiagram-v2", "    [*] --> pending"]
    for t in sorted(STEP_TRANSITIONS, key=lambda t: (t.source, t.target, t.event)):
        if t.target == StepStatus.CANCELLED and t.source != StepStatus.PENDING:
            continue  # drawn once, below
        lines.append(f"    {t.source} --> {t.target}: {t.event}")
    lines.append("    note right of cancelled: any open status → cancelled (step.cancelled)")
    for status in sorted(STEP_TERMINAL):
        lines.append(f"    {status} --> [*]")
    return "\n".join(lines)
