"""Live execution events: the one message schema, publishing after commit, snapshots.

The database is the truth: every state change is an ``ExecutionEvent`` row numbered
per execution (``seq`` 1, 2, …). The channel layer (Redis pub/sub) only carries
those rows to connected websockets *after* the transaction that wrote them has
committed. A message Redis loses is found again from the database: consumers fill
any gap in ``seq`` from the event table, and a reconnecting client replays what it
missed with ``?after=<seq>``. So publishing is best effort and never raises into
the engine.

The schema of every message is documented in ``docs/events.md``; change both
together.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from executions.core import states
from executions.core.attempts import attempt_history
from executions.models import (
    EXECUTION_TERMINAL,
    Execution,
    ExecutionEvent,
    ExecutionStatus,
    StepRun,
)
from workflows.models import Workflow
from workflows.selectors import WorkflowNotFound, workflow_get

logger = logging.getLogger(__name__)

#: Every event type the engine emits (``docs/events.md`` describes each payload).
EVENT_TYPES = states.EVENT_TYPES  # every move of the table, and the notes

#: Channel-layer message type; Channels dispatches it to ``execution_event()``.
GROUP_MESSAGE_TYPE = "execution.event"

#: Events sent per database round trip when replaying or filling a gap.
REPLAY_BATCH = 500
#: How many finished executions a workflow snapshot lists (active ones always are).
WORKFLOW_SNAPSHOT_RECENT = 20
#: Hard cap on a workflow snapshot, so a workflow with thousands of queued runs
#: still gets a bounded first message.
WORKFLOW_SNAPSHOT_MAX = 200

# Channels' own rule for group names (``BaseChannelLayer.group_name_regex``) and
# its length limit (< 100).
_GROUP_NAME = re.compile(r"^[a-zA-Z\d\-_.]{1,99}$")

_ACTIVE_EXECUTION = (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)


# --- group names ----------------------------------------------------------------------


def _group(prefix: str, public_id: str) -> str:
    name = f"{prefix}.{public_id}"
    if not _GROUP_NAME.match(name):
        raise ValueError(f"{public_id!r} cannot be part of a channel group name")
    return name


def execution_group(execution_public_id: str) -> str:
    """The channel-layer group of one execution's events (``execution.exec_…``)."""
    return _group("execution", execution_public_id)


def workflow_group(workflow_public_id: str) -> str:
    """The group that carries the events of every execution of a workflow."""
    return _group("workflow", workflow_public_id)


# --- the message schema ---------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | float | int | None) -> float:
    return float(value or 0)


def _workflow_public_id(execution: Execution) -> str:
    # Free when the caller loaded ``execution.workflow`` (``select_related``), as the
    # engine does when it locks the execution; otherwise one query, after which
    # Django caches the workflow on this instance for the next events.
    return execution.workflow.public_id


def _event_message(
    event: ExecutionEvent, *, execution_public_id: str, workflow_public_id: str
) -> dict[str, Any]:
    return {
        "kind": "event",
        "seq": event.seq,
        "type": event.type,
        "execution_id": execution_public_id,
        "workflow_id": workflow_public_id,
        "step": event.step_key or None,
        "payload": event.payload if event.payload is not None else {},
        "at": _iso(event.created_at),
    }


def event_payload(event: ExecutionEvent) -> dict[str, Any]:
    """The websocket message for one event: the one schema of ``docs/events.md``.

    ``{"kind": "event", "seq", "type", "execution_id", "workflow_id", "step",
    "payload", "at"}``. ``payload`` is stored as the engine wrote it (already
    redacted). Costs no query when ``event.execution`` is loaded and its workflow
    id has been seen before in this process.
    """
    execution = event.execution
    return _event_message(
        event,
        execution_public_id=execution.public_id,
        workflow_public_id=_workflow_public_id(execution),
    )


# --- publishing -----------------------------------------------------------------------


class _GroupPublisher:
    """Sends group messages from synchronous code: every message of one commit in
    one pipelined Redis round trip.

    The channel layer is Channels' Redis pub/sub layer, whose ``group_send`` is a
    ``PUBLISH`` of the layer's serialized message on the group's channel
    (``<prefix>__group__<group>``). This does the same from plain code, with a
    plain Redis client: no event loop, no thread. An earlier version handed each
    message to an event loop in a background thread; the thread's competition for
    the interpreter lock cost a worker more per step than one round trip does
    (``bench/engine.py``). Another layer (several Redis hosts, another backend)
    gets the layer's own ``group_send``.

    A publish that fails or times out (``timeout`` seconds) suspends publishing
    for ``backoff`` seconds, with one warning rather than one per event: the engine
    must not slow down because Redis is away, and the events are in the database
    for consumers to catch up from.
    """

    def __init__(
        self, *, timeout: float = 0.5, backoff: float = 5.0, url: str | None = None
    ) -> None:
        self.timeout = timeout
        self.url = url  # the layer's Redis unless given
        self.backoff = backoff
        self._suspended_until = 0.0
        self._dropped = 0
        self._client: Any = None
        self._pid: int | None = None

    def publish(self, groups: Iterable[str], message: dict[str, Any]) -> None:
        """Send ``message`` to each group; log and swallow any failure."""
        self.publish_all([(tuple(groups), message)])

    def publish_all(self, items: list[tuple[tuple[str, ...], dict[str, Any]]]) -> None:
        """Send several messages, in order; log and swallow any failure."""
        if not items:
            return
        if time.monotonic() < self._suspended_until:
            self._dropped += len(items)
            return
        try:
            layer = get_channel_layer()
            if layer is None:
                return
            redis_pubsub = self._redis_pubsub(layer)
            if redis_pubsub is None:
                for groups, message in items:
                    for group in groups:
                        async_to_sync(layer.group_send)(group, message)
            else:
                client, prefix = redis_pubsub
                pipe = client.pipeline(transaction=False)
                for groups, message in items:
                    data = layer.serialize(message)
                    for group in groups:
                        pipe.publish(f"{prefix}__group__{group}", data)
                pipe.execute()
        except Exception:
            self._suspended_until = time.monotonic() + self.backoff
            event = items[-1][1].get("event", {})
            logger.warning(
                "Could not publish live event %s #%s; suspending live publishing for %.0f s "
                "(clients catch up from the database).",
                event.get("execution_id"),
                event.get("seq"),
                self.backoff,
                exc_info=True,
            )
            return
        if self._dropped:
            logger.info("Live publishing resumed; %d events were not published.", self._dropped)
            self._dropped = 0

    def _redis_pubsub(self, layer: Any) -> tuple[Any, str] | None:
        """A Redis client (one per process: a forked worker makes its own) and the
        channel prefix, when ``layer`` is the pub/sub layer on one Redis."""
        # A plain setting: mypy infers its type from the literal in settings.py.
        layers = cast(dict[str, dict[str, Any]], settings.CHANNEL_LAYERS)
        config: dict[str, Any] = layers.get("default", {}).get("CONFIG", {})
        hosts = config.get("hosts") or []
        if not isinstance(layer, RedisPubSubChannelLayer) or len(hosts) != 1:
            return None
        if not isinstance(hosts[0], str):  # a dict of connection options
            return None
        if self._client is None or self._pid != os.getpid():
            self._client = redis.Redis.from_url(
                self.url or hosts[0],
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
            )
            self._pid = os.getpid()
        return self._client, config.get("prefix", "asgi")


_publisher = _GroupPublisher()
_notice_publisher = _GroupPublisher(backoff=0)


def _publish(groups: tuple[str, ...], message: dict[str, Any]) -> None:
    try:
        _publisher.publish(groups, message)
    except Exception:  # never let a websocket push break the caller's commit hooks
        logger.exception("Live event publishing failed")


def notice_publish(groups: tuple[str, ...], message: dict[str, Any]) -> None:
    """Send an access notice (``workflows.access``) to every consumer in ``groups``.

    Not through the live events' publisher: a notice must not be dropped while that
    one is suspended after a failure, so it gets its own (same round trip).
    """
    try:
        _notice_publisher.publish(groups, message)
    except Exception:
        logger.exception("Access notice publishing failed")


def event_publish_on_commit(event: ExecutionEvent) -> None:
    """Push ``event`` to its execution's and its workflow's groups once committed.

    Call it right after creating the event row, inside the transaction that wrote
    it. The message is built now (the row is immutable) and sent from a
    ``transaction.on_commit`` hook, so a rolled-back transaction publishes nothing
    and no listener ever hears of a state the database does not hold. Any failure
    (Redis down, a bad name) is logged and swallowed: the database is the truth and
    clients replay from it.
    """
    try:
        message = event_payload(event)
        groups = (
            execution_group(message["execution_id"]),
            workflow_group(message["workflow_id"]),
        )
    except Exception:
        logger.exception("Could not prepare live event %s", event.pk)
        return
    transaction.on_commit(
        functools.partial(_publish, groups, {"type": GROUP_MESSAGE_TYPE, "event": message})
    )


def events_publish_on_commit(events: Iterable[ExecutionEvent]) -> None:
    """:func:`event_publish_on_commit` for all the events of one transaction, sent in
    order with a single hop to the publishing loop (a 1000-step fan-out is 1000 events)."""
    items: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for event in events:
        try:
            message = event_payload(event)
            groups = (
                execution_group(message["execution_id"]),
                workflow_group(message["workflow_id"]),
            )
        except Exception:
            logger.exception("Could not prepare live event %s", event.pk)
            continue
        items.append((groups, {"type": GROUP_MESSAGE_TYPE, "event": message}))
    if items:
        transaction.on_commit(functools.partial(_publish_all, items))


def _publish_all(items: list[tuple[tuple[str, ...], dict[str, Any]]]) -> None:
    try:
        _publisher.publish_all(items)
    except Exception:  # never let a websocket push break the caller's commit hooks
        logger.exception("Live event publishing failed")


# --- snapshots ------------------------------------------------------------------------


def _last_seq_subquery() -> Coalesce:
    highest = (
        ExecutionEvent.objects.filter(execution=OuterRef("pk")).order_by("-seq").values("seq")[:1]
    )
    return Coalesce(Subquery(highest), Value(0))


_STEP_FIELDS = (
    "key",
    "step_id",
    "status",
    "attempt",
    "model_used",
    "error_type",
    "error_message",
    "cost",
    "started_at",
    "completed_at",
)


# What saying why a step waits reads besides ``_STEP_FIELDS`` (not sent as such).
_WAITING_FIELDS = ("parent_id", "iteration", "queue", "next_attempt_at")
# What a step's ``attempt_history`` is made from besides ``_STEP_FIELDS`` (not sent as such).
_HISTORY_FIELDS = ("attempts_log",)


def _steps_waiting(execution: Execution, status: str, rows: list[dict[str, Any]]) -> dict[int, Any]:
    """``selectors.steps_waiting`` for snapshot rows (read as values, not models), as of
    the execution ``status`` the snapshot read."""
    from executions.selectors import steps_waiting

    if status in EXECUTION_TERMINAL:
        return {}
    runs = [StepRun(pk=r["id"], **{k: v for k, v in r.items() if k != "id"}) for r in rows]
    return steps_waiting(execution, runs)


def execution_snapshot(execution: Execution) -> dict[str, Any]:
    """The first message on an execution socket: its state as of ``last_seq``.

    Two queries whatever the number of steps. Order matters: the execution row and
    its highest ``seq`` are read in one statement *before* the steps, so every event
    up to ``last_seq`` is reflected in the steps sent (an event is committed with
    the state change it records). Steps may show changes newer than ``last_seq``;
    the events after it follow, and applying them is idempotent for a client.
    """
    row = (
        Execution.objects.filter(pk=execution.pk)
        .annotate(last_seq=_last_seq_subquery())
        .values("status", "created_at", "started_at", "completed_at", "total_cost", "last_seq")
        .get()
    )
    rows = list(
        StepRun.objects.filter(execution_id=execution.pk)
        .order_by("id")
        .values("id", *_STEP_FIELDS, *_WAITING_FIELDS, *_HISTORY_FIELDS)
    )
    waiting = _steps_waiting(execution, row["status"], rows)
    steps = [
        {
            **{name: step[name] for name in _STEP_FIELDS},
            "cost": _money(step["cost"]),
            "started_at": _iso(step["started_at"]),
            "completed_at": _iso(step["completed_at"]),
            "waiting": waiting.get(step["id"]),
            "attempt_history": attempt_history(
                step["attempts_log"],
                status=step["status"],
                attempt=step["attempt"],
                model=step["model_used"],
                started_at=step["started_at"],
                completed_at=step["completed_at"],
            ),
        }
        for step in rows
    ]
    return {
        "kind": "snapshot",
        "execution_id": execution.public_id,
        "workflow_id": _workflow_public_id(execution),
        "status": row["status"],
        "last_seq": row["last_seq"],
        "created_at": _iso(row["created_at"]),
        "started_at": _iso(row["started_at"]),
        "completed_at": _iso(row["completed_at"]),
        "total_cost": _money(row["total_cost"]),
        "steps": steps,
    }


def workflow_snapshot(workflow: Workflow) -> dict[str, Any]:
    """The first message on a workflow socket: its active and most recent executions.

    One query. Every queued or running execution is listed (up to
    ``WORKFLOW_SNAPSHOT_MAX``), plus the ``WORKFLOW_SNAPSHOT_RECENT`` newest, each
    with its ``last_seq``; the stream then carries, per execution, the events after
    that ``seq`` (from ``seq`` 1 for executions the snapshot did not list).
    """
    recent = Execution.objects.filter(workflow_id=workflow.pk).order_by("-created_at", "-id")
    rows = (
        Execution.objects.filter(workflow_id=workflow.pk)
        .filter(
            Q(status__in=_ACTIVE_EXECUTION)
            | Q(pk__in=recent.values("pk")[:WORKFLOW_SNAPSHOT_RECENT])
        )
        .annotate(last_seq=_last_seq_subquery())
        .order_by("-created_at", "-id")
        .values(
            "public_id",
            "status",
            "is_test",
            "created_at",
            "started_at",
            "completed_at",
            "total_cost",
            "last_seq",
        )[:WORKFLOW_SNAPSHOT_MAX]
    )
    return {
        "kind": "snapshot",
        "workflow_id": workflow.public_id,
        "executions": [
            {
                "execution_id": row["public_id"],
                "status": row["status"],
                "is_test": row["is_test"],
                "last_seq": row["last_seq"],
                "created_at": _iso(row["created_at"]),
                "started_at": _iso(row["started_at"]),
                "completed_at": _iso(row["completed_at"]),
                "total_cost": _money(row["total_cost"]),
            }
            for row in rows
        ],
    }


# --- reads for the consumers (synchronous; consumers wrap them) -----------------------


def execution_readable(*, user: Any, public_id: str) -> Execution | None:
    """The execution if ``user`` may read its workflow, else ``None`` (reads as 404):
    ``selectors.execution_for_user`` for a consumer, which answers with a close code."""
    from executions.selectors import ExecutionNotFound, execution_for_user

    try:
        return execution_for_user(user=user, public_id=public_id)
    except ExecutionNotFound:
        return None


def execution_workflow_public_id(execution: Execution) -> str:
    """The public id of the workflow ``execution`` belongs to (for its access group)."""
    return _workflow_public_id(execution)


def token_active(token_id: int) -> bool:
    """Whether the API token with this id is still neither revoked nor expired."""
    from workflows.models import ApiToken

    token = ApiToken.objects.filter(pk=token_id).first()
    return token is not None and token.is_active()


def workflow_for_user(*, user: Any, public_id: str) -> Workflow | None:
    """The live workflow if ``user`` may read it, else ``None`` (reads as 404)."""
    try:
        return workflow_get(user=user, public_id=public_id)
    except WorkflowNotFound:
        return None


def events_after(
    *, execution: Execution, after: int, limit: int = REPLAY_BATCH
) -> list[dict[str, Any]]:
    """Messages of ``execution``'s events with ``seq > after``, oldest first."""
    workflow_public_id = _workflow_public_id(execution)
    events = ExecutionEvent.objects.filter(execution_id=execution.pk, seq__gt=after).order_by(
        "seq"
    )[:limit]
    return [
        _event_message(
            event,
            execution_public_id=execution.public_id,
            workflow_public_id=workflow_public_id,
        )
        for event in events
    ]


def workflow_events_after(
    *, workflow: Workflow, execution_public_id: str, after: int, limit: int = REPLAY_BATCH
) -> list[dict[str, Any]]:
    """Like ``events_after`` for one execution of ``workflow``, named by public id."""
    events = (
        ExecutionEvent.objects.filter(
            execution__public_id=execution_public_id,
            execution__workflow_id=workflow.pk,
            seq__gt=after,
        )
        .order_by("seq")
        .only("seq", "type", "step_key", "payload", "created_at")[:limit]
    )
    return [
        _event_message(
            event,
            execution_public_id=execution_public_id,
            workflow_public_id=workflow.public_id,
        )
        for event in events
    ]
