"""The engine's hot statements: a PostgreSQL form and a portable (SQLite) form of each.

Every vendor-specific statement of the engine lives here, behind functions that
mean the same on both databases (``tests/executions/test_statements.py`` runs the
same cases on each). They are called by ``executions.services.transitions`` (the
status writes) and the engine's reads; the statuses they guard on come from the
transition table (``executions.core.states``), never typed twice.

Columns are always named: a prepared statement that said ``*`` would fail
("cached plan must not change result type") in a worker still running while a
migration adds a column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import CharField, Field, Q, Value
from django.db.models.functions import Cast, Concat

from executions.core.states import SLOT_HOLDING, step_sources
from executions.models import Execution, ExecutionEvent, ExecutionStatus, StepRun, StepStatus

# Where a worker's claim may take a run from (queued, or a due retry), and the
# execution statuses in which anything may still start.
CLAIMABLE = step_sources(StepStatus.RUNNING, "step.running")
OPEN_EXECUTION = (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)
QUEUEABLE = step_sources(StepStatus.QUEUED, "step.queued") - {StepStatus.RUNNING}
# A run a worker continues with: queued by this change (already so on SQLite, where
# queuing is not deferred), or about to be.
CONTINUABLE = QUEUEABLE | {StepStatus.QUEUED}


def _in(values: Iterable[str]) -> str:
    """A constant SQL list of statuses (statuses are fixed identifiers, never input)."""
    return ", ".join(f"'{v}'" for v in sorted(values))


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


_RUN_COLUMNS = ", ".join(str(f.column) for f in StepRun._meta.concrete_fields)
_RUNS = StepRun._meta.db_table
_EXECUTIONS = Execution._meta.db_table
_EVENTS = ExecutionEvent._meta.db_table


def _field(name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", StepRun._meta.get_field(name))


def running_payload(run: StepRun) -> dict[str, Any]:
    """The payload of a ``step.running`` event, for every claim (the PostgreSQL claim
    statement builds the same object in SQL)."""
    return {
        "status": StepStatus.RUNNING,
        "attempt": run.attempt,
        "model_used": run.model_used,
        "worker": run.worker_host,
        "waiting": None,
    }


# --- claim: queued | retrying → running, with its event --------------------------------


@dataclass
class Claimed:
    run: StepRun
    event: ExecutionEvent  # written; its ``execution_id`` is set, not its ``execution``
    execution_public_id: str


# UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35): the ORM has no update that returns rows.
_CLAIM_EXECUTION = (
    f"UPDATE {_EXECUTIONS} SET event_seq = event_seq + 1 "  # noqa: S608 - constants
    f"WHERE id = %s AND status IN ({_in(OPEN_EXECUTION)}) RETURNING event_seq, public_id"
)
_CLAIM_RUN = (
    f"UPDATE {_RUNS} SET status = '{StepStatus.RUNNING}', "  # noqa: S608 - constants
    "attempt = attempt + 1, started_at = %s, heartbeat_at = %s, worker_host = %s, "
    "next_attempt_at = NULL, task_id = COALESCE(%s, task_id) "
    f"WHERE id = %s AND status IN ({_in(CLAIMABLE)}) "
    f"AND (next_attempt_at IS NULL OR next_attempt_at <= %s) RETURNING {_RUN_COLUMNS}"
)
# PostgreSQL: the whole claim in one statement, so one round trip in autocommit. The
# execution row is locked first (the uncorrelated EXISTS runs before the step-run
# update), the sequence number moves only if the run was claimed, and the
# ``step.running`` event is written beside it.
_CLAIM_ONE_STATEMENT = f"""
WITH ex AS (
    SELECT id FROM {_EXECUTIONS}
    WHERE id = %(execution)s AND status IN ({_in(OPEN_EXECUTION)})
    FOR UPDATE
), run AS (
    UPDATE {_RUNS} SET status = '{StepStatus.RUNNING}',
        attempt = attempt + 1, started_at = %(now)s, heartbeat_at = %(now)s,
        worker_host = %(host)s, next_attempt_at = NULL,
        task_id = COALESCE(%(task)s, task_id)
    WHERE id = %(run)s AND status IN ({_in(CLAIMABLE)})
      AND (next_attempt_at IS NULL OR next_attempt_at <= %(now)s)
      AND EXISTS (SELECT 1 FROM ex)
    RETURNING {_RUN_COLUMNS}
), seq AS (
    UPDATE {_EXECUTIONS} SET event_seq = event_seq + 1
    WHERE id = %(execution)s AND EXISTS (SELECT 1 FROM run)
    RETURNING event_seq
), event AS (
    INSERT INTO {_EVENTS} (execution_id, seq, type, step_key, payload, created_at)
    SELECT %(execution)s, seq.event_seq, 'step.running', run.key,
        jsonb_build_object('status', '{StepStatus.RUNNING}', 'attempt', run.attempt,
                           'model_used', run.model_used, 'worker', run.worker_host,
                           'waiting', NULL),
        %(now)s
    FROM run, seq
    RETURNING id
)
SELECT run.*, seq.event_seq AS claimed_seq, (SELECT id FROM event) AS claimed_event_id,
    (SELECT public_id FROM {_EXECUTIONS} WHERE id = %(execution)s)
        AS claimed_execution_public_id
FROM run, seq
"""  # noqa: S608 - table names and statuses are constants


def claim(
    *, step_run_id: int, execution_pk: int, worker_host: str, now: datetime, task_id: str | None
) -> Claimed | None:
    """Take a claimable run for a worker (attempt + 1) and write its ``step.running``
    event under the execution row lock; None if the run or its execution moved on.

    On PostgreSQL one statement (its own transaction in autocommit); elsewhere three
    in one transaction: lock the execution row while taking the next event number
    (only while it is open), claim the run, write the event. A claim that finds
    nothing changes nothing, so no event number is ever skipped.
    """
    if _is_postgresql():
        params = {
            "execution": execution_pk,
            "run": step_run_id,
            "host": worker_host,
            "now": now,
            "task": task_id,
        }
        found = list(StepRun.objects.raw(_CLAIM_ONE_STATEMENT, params))
        if not found:
            return None
        run: Any = found[0]  # with the statement's extra columns
        event = ExecutionEvent(
            pk=run.claimed_event_id,
            execution_id=execution_pk,
            seq=run.claimed_seq,
            type="step.running",
            step_key=run.key,
            payload=running_payload(run),
            created_at=now,
        )
        return Claimed(run, event, run.claimed_execution_public_id)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_EXECUTION, [execution_pk])
            row = cursor.fetchone()
        if row is None:  # finished or cancelled: nothing runs any more
            return None
        found = list(
            StepRun.objects.raw(
                _CLAIM_RUN, [stamp, stamp, worker_host, task_id, step_run_id, stamp]
            )
        )
        if not found:  # a duplicate or late message
            transaction.set_rollback(True)
            return None
        run = found[0]
        event = ExecutionEvent.objects.create(
            execution_id=execution_pk,
            seq=row[0],
            type="step.running",
            step_key=run.key,
            payload=running_payload(run),
            created_at=now,
        )
    return Claimed(run, event, row[1])


# --- a worker's outcome: lock the execution and record it, fenced by the attempt -------

COMPLETE_COLUMNS = (
    "status", "result", "model_used", "input", "completed_at", "heartbeat_at", "error_type",
    "error_message", "cpu_seconds", "memory_mb", "wall_seconds", "gpu_seconds",
    "input_tokens", "output_tokens", "cost",
)  # fmt: skip
# Every column of the execution but its definition: a big workflow's document would
# be read and parsed on every step, and the plan compiled from it is cached anyway.
_EXECUTION_COLUMNS = ", ".join(
    str(f.column) for f in Execution._meta.concrete_fields if f.name != "definition"
)
_LOCK_AND_COMPLETE = f"""
WITH ex AS (
    SELECT {_EXECUTION_COLUMNS} FROM {_EXECUTIONS}
    WHERE id = %(execution)s FOR UPDATE
), done AS (
    UPDATE {_RUNS}
    SET {", ".join(f"{c} = %({c})s" for c in COMPLETE_COLUMNS)}
    WHERE id = %(run)s AND status = '{StepStatus.RUNNING}' AND attempt = %(attempt)s
      AND EXISTS (SELECT 1 FROM ex)
    RETURNING id
)
SELECT ex.*, (SELECT count(*) FROM done) AS completed_now FROM ex
"""  # noqa: S608 - table, column and status names are constants


def lock_and_complete(
    *, execution_pk: int, step_run_id: int, attempt: int, fields: dict[str, Any]
) -> tuple[Execution, bool]:
    """Lock the execution row and move the run ``running → completed`` for ``attempt``
    with ``fields`` (every name of ``COMPLETE_COLUMNS``). Returns the locked execution
    (without its definition on PostgreSQL) and whether the run was completed.
    Inside ``transaction.atomic``."""
    if _is_postgresql():
        params: dict[str, Any] = {
            "execution": execution_pk,
            "run": step_run_id,
            "attempt": attempt,
        }
        for name in COMPLETE_COLUMNS:
            params[name] = _field(name).get_db_prep_save(fields[name], connection)
        execution: Any = next(iter(Execution.objects.raw(_LOCK_AND_COMPLETE, params)))
        return execution, bool(execution.completed_now)
    execution = (
        Execution.objects.select_for_update(of=("self",))
        .select_related("workflow")
        .get(pk=execution_pk)
    )
    updated = StepRun.objects.filter(
        pk=step_run_id, status=StepStatus.RUNNING, attempt=attempt
    ).update(**fields)
    return execution, bool(updated)


# --- a change's events, runs it queued and the run it continues with -------------------

CLAIMED_FIELDS = (
    "status", "attempt", "started_at", "heartbeat_at", "queued_at", "worker_host", "task_id",
    "next_attempt_at",
)  # fmt: skip
_WRITE_EVENTS = f"""
WITH queued AS (
    UPDATE {_RUNS}
    SET status = '{StepStatus.QUEUED}', queued_at = %(queued_at)s,
        task_id = 'step-' || id || '-' || %(token)s
    WHERE id = ANY(%(queued_ids)s::bigint[]) AND status IN ({_in(QUEUEABLE)})
), claimed AS (
    UPDATE {_RUNS}
    SET {", ".join(f"{c} = %(claimed_{c})s" for c in CLAIMED_FIELDS)}
    WHERE id = %(claimed_id)s::bigint AND status IN ({_in(CONTINUABLE)})
), written AS (
    INSERT INTO {_EVENTS} (execution_id, seq, type, step_key, payload, created_at)
    SELECT %(execution)s, seq, type, step_key, payload, created_at
    FROM unnest(%(seqs)s::integer[], %(types)s::text[], %(keys)s::text[],
                %(payloads)s::jsonb[], %(times)s::timestamptz[])
        AS e(seq, type, step_key, payload, created_at)
)
UPDATE {_EXECUTIONS} SET event_seq = %(last)s
WHERE id = %(execution)s
"""  # noqa: S608 - table names are constants


@dataclass
class Queued:
    """Runs to move to ``queued`` (from pending or ready), with task ids
    ``step-<id>-<token>``."""

    run_ids: list[int]
    at: datetime
    token: str


def update_queued(queued: Queued) -> None:
    """Move the runs to ``queued`` now (portable)."""
    StepRun.objects.filter(pk__in=queued.run_ids, status__in=QUEUEABLE).update(
        status=StepStatus.QUEUED,
        queued_at=queued.at,
        task_id=Concat(Value("step-"), Cast("id", CharField()), Value(f"-{queued.token}")),
    )


def write_changes(
    execution: Execution,
    events: list[ExecutionEvent],
    queued: Queued | None,
    claimed: StepRun | None,
) -> None:
    """Write a change's events and the execution's new sequence number, move the runs
    it queued to ``queued`` and the run a worker continues with to ``running``
    (``CLAIMED_FIELDS``, from pending or ready). On PostgreSQL one statement."""
    if not _is_postgresql():
        if queued is not None:
            update_queued(queued)
        if claimed is not None:
            StepRun.objects.filter(pk=claimed.pk, status__in=CONTINUABLE).update(
                **{f: getattr(claimed, f) for f in CLAIMED_FIELDS}
            )
        ExecutionEvent.objects.bulk_create(events)
        Execution.objects.filter(pk=execution.pk).update(event_seq=execution.event_seq)
        return
    encoder = ExecutionEvent._meta.get_field("payload").encoder  # type: ignore[attr-defined]
    params: dict[str, Any] = {
        "execution": execution.pk,
        "seqs": [e.seq for e in events],
        "types": [e.type for e in events],
        "keys": [e.step_key for e in events],
        "payloads": [json.dumps(e.payload, cls=encoder) for e in events],
        "times": [e.created_at for e in events],
        "last": execution.event_seq,
        "queued_ids": queued.run_ids if queued else [],
        "queued_at": queued.at if queued else None,
        "token": queued.token if queued else "",
        "claimed_id": claimed.pk if claimed else None,
    }
    for name in CLAIMED_FIELDS:
        value = getattr(claimed, name) if claimed else None
        params[f"claimed_{name}"] = (
            _field(name).get_db_prep_save(value, connection) if claimed else None
        )
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_EVENTS, params)


# --- readiness: candidates, their open dependencies and the slot counts ----------------


@dataclass(frozen=True)
class Load:
    """How many runs hold a slot and how many wait for one. ``exact`` if counted;
    otherwise each is only 0 or 1 (whether there is any), from index probes."""

    active: int
    waiting: int
    exact: bool


# PostgreSQL: the candidates still pending, every dependency of a candidate that has
# not completed, and the counts ``_dispatch`` needs, in one query. The counts come
# on every row (and on a row of NULLs when nothing matches).
_READINESS = f"""
SELECT {", ".join(f"r.{f.column}" for f in StepRun._meta.concrete_fields)},
    c.active AS n_active, c.waiting AS n_waiting
FROM (
    SELECT count(*) FILTER (WHERE status IN ({_in(SLOT_HOLDING)})) AS active,
           count(*) FILTER (WHERE status = '{StepStatus.READY}') AS waiting
    FROM {_RUNS} WHERE execution_id = %(execution)s
) c
LEFT JOIN {_RUNS} r ON r.execution_id = %(execution)s AND (
    (r.key = ANY(%(candidates)s::text[]) AND r.status = '{StepStatus.PENDING}')
    OR (r.key = ANY(%(deps)s::text[]) AND r.status <> '{StepStatus.COMPLETED}')
)
"""  # noqa: S608 - table and status names are constants


def readiness_rows(
    execution: Execution, step_ids: set[str], dep_keys: set[str]
) -> tuple[list[StepRun], Load | None]:
    """The candidates still pending and every dependency of theirs not completed; on
    PostgreSQL also the slot counts, read in the same query."""
    if not _is_postgresql():
        rows = StepRun.objects.filter(execution=execution).filter(
            Q(key__in=list(step_ids), status=StepStatus.PENDING)
            | (Q(key__in=list(dep_keys)) & ~Q(status=StepStatus.COMPLETED))
        )
        return list(rows), None
    params = {"execution": execution.pk, "candidates": list(step_ids), "deps": list(dep_keys)}
    found = list(StepRun.objects.raw(_READINESS, params))
    first: Any = found[0]  # every row carries the counts
    load = Load(active=first.n_active, waiting=first.n_waiting, exact=True)
    return [row for row in found if row.pk is not None], load


# --- a wide join's open dependencies, counted down ------------------------------------


def deps_count_down(execution: Execution, finished: dict[str, int]) -> set[str]:
    """``{join key: how many of its dependencies just finished}``: count each pending
    join's ``deps_open`` down; the keys whose count reached zero (or below: a row
    older than the counter), one statement per distinct count (nearly always one)."""
    reached: set[str] = set()
    by_count: dict[int, list[str]] = {}
    for key, n in finished.items():
        by_count.setdefault(n, []).append(key)
    with connection.cursor() as cursor:
        for n, keys in by_count.items():
            cursor.execute(
                f"UPDATE {_RUNS} SET deps_open = deps_open - %s"  # noqa: S608 - constants
                f" WHERE execution_id = %s AND parent_id IS NULL AND status = %s"
                f" AND key IN ({', '.join(['%s'] * len(keys))})"
                " RETURNING key, deps_open",
                [n, execution.pk, StepStatus.PENDING.value, *sorted(keys)],
            )
            reached.update(key for key, left in cursor.fetchall() if left <= 0)
    return reached
