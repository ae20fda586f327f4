"""Websocket consumers: the live events of one execution, or of every run of a workflow.

Thin, like the API views: the handshake's user comes from ``prsm_site.ws_auth``,
read permission from the workflow selectors, and every database read is a small
function of ``executions.live`` run through ``database_sync_to_async``. The
protocol (messages, close codes, replay) is documented in ``docs/events.md``.

Ordering and duplicates. A consumer handles one message at a time (Channels
dispatches serially), so live events that arrive while ``connect()`` is still
sending the snapshot and the replay wait in the channel's queue and are handled
afterwards, in arrival order. Each consumer remembers the highest ``seq`` it has
sent per execution: a live event at or below it is dropped (the client has it),
and one that skips ahead means an earlier publish was lost or overtaken by
another process's, so the missing events are read from the database first. The
client therefore sees every execution's events exactly once and in ``seq`` order.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from executions import live
from executions.models import Execution
from executions.operations.metrics import WEBSOCKETS
from workflows.access import token_group, user_access_group, workflow_access_group
from workflows.models import Workflow

logger = logging.getLogger(__name__)

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHENTICATED = 4401  # also: the API token the socket was opened with was revoked
CLOSE_FORBIDDEN = 4403  # the user lost read access while the socket was open
CLOSE_NOT_FOUND = 4404  # also "may not read": the same answer, as in the REST API

_SEQ = re.compile(r"^[0-9]{1,10}$")


def _db(func: Any) -> Any:
    # Self-contained reads, each with its own connection: they need not queue behind
    # every other consumer on Channels' single thread-sensitive worker thread.
    return database_sync_to_async(func, thread_sensitive=False)


_execution_readable = _db(live.execution_readable)
_workflow_for_user = _db(live.workflow_for_user)
_execution_snapshot = _db(live.execution_snapshot)
_workflow_snapshot = _db(live.workflow_snapshot)
_events_after = _db(live.events_after)
_workflow_events_after = _db(live.workflow_events_after)
_execution_workflow_public_id = _db(live.execution_workflow_public_id)
_token_active = _db(live.token_active)


def parse_after(query_string: bytes) -> int | None:
    """The ``?after=<seq>`` of a handshake: ``None`` if absent; ``ValueError`` if malformed."""
    values = parse_qs(query_string.decode("latin-1"), keep_blank_values=True).get("after")
    if values is None:
        return None
    if len(values) != 1 or not _SEQ.match(values[0]):
        raise ValueError("after must be one non-negative integer")
    return int(values[0])


class _LiveConsumer(AsyncJsonWebsocketConsumer):
    """What both streams share: refusing, joining groups, the ping, and counting
    open connections for ``/metrics``."""

    _counted = False

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await super().accept(subprotocol, headers)
        if not self._counted:
            self._counted = True
            WEBSOCKETS.inc()

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if self._counted:
            self._counted = False
            WEBSOCKETS.dec()
        await super().websocket_disconnect(message)

    async def refuse(self, code: int, reason: str) -> None:
        # Accept first: a close before the handshake completes reaches the client as
        # a bare HTTP 403, and the 44xx code would be lost.
        # The path only: the query string may hold an API token.
        logger.info("Websocket %s refused with %s: %s", self.scope.get("path"), code, reason)
        await self.accept()
        await self.close(code=code, reason=reason)

    def signed_in_user(self) -> Any | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        # Unwrap Channels' lazy session user: the ORM and guardian get a real model.
        return getattr(user, "_wrapped", user)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)  # the base class leaves these groups on disconnect

    # --- access that ends while the socket is open (``workflows.access``) -----------

    user: Any
    ended = False

    async def watch_access(self, workflow_public_id: str) -> bool:
        """Join the groups that say access may have ended: the user's, the workflow's
        and, for a socket opened with an API token, the token's.

        Then look again (False: access ended meanwhile): a change committed between
        the handshake's check and the join would otherwise go unheard.
        """
        await self.join(user_access_group(self.user.pk))
        await self.join(workflow_access_group(workflow_public_id))
        token_id = self.scope.get("api_token_id")
        if token_id is not None:
            await self.join(token_group(token_id))
            if not await _token_active(token_id):
                await self.end(CLOSE_UNAUTHENTICATED, "token revoked")
                return False
        if not await self.still_readable():
            await self.end(CLOSE_FORBIDDEN, "access revoked")
            return False
        return True

    async def still_readable(self) -> bool:
        """Whether the user may still read what this socket streams."""
        raise NotImplementedError

    async def end(self, code: int, reason: str) -> None:
        """Close the stream; nothing more is sent on it."""
        if self.ended:
            return
        self.ended = True
        logger.info("Websocket %s closed with %s: %s", self.scope.get("path"), code, reason)
        await self.close(code=code, reason=reason)

    async def access_changed(self, message: dict[str, Any]) -> None:
        """``access.changed``: grants changed; close with 4403 if read access ended."""
        if not self.ended and not await self.still_readable():
            await self.end(CLOSE_FORBIDDEN, "access revoked")

    async def token_revoked(self, message: dict[str, Any]) -> None:
        """``token.revoked``: the API token this socket was opened with was revoked."""
        await self.end(CLOSE_UNAUTHENTICATED, "token revoked")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Clients have nothing to say but "ping"; anything else, even invalid JSON,
        # is ignored rather than allowed to crash the connection.
        if text_data is None:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.on_ping()
            await self.send_json({"kind": "pong"})

    async def on_ping(self) -> None:
        """Hook run before answering a ping."""


class ExecutionConsumer(_LiveConsumer):
    """``ws/executions/<execution_id>/[?after=<seq>]``: snapshot, replay, then live."""

    execution: Execution
    last_seq: int

    async def connect(self) -> None:
        user = self.signed_in_user()
        if user is None:
            await self.refuse(CLOSE_UNAUTHENTICATED, "authentication required")
            return
        try:
            after = parse_after(self.scope.get("query_string", b""))
        except ValueError:
            await self.refuse(CLOSE_BAD_REQUEST, "after must be a non-negative integer")
            return
        public_id = self.scope["url_route"]["kwargs"]["execution_id"]
        execution = await _execution_readable(user=user, public_id=public_id)
        if execution is None:
            await self.refuse(CLOSE_NOT_FOUND, "execution not found")
            return
        self.execution, self.user = execution, user
        await self.accept()
        if not await self.watch_access(await _execution_workflow_public_id(execution)):
            return
        # Join before reading the snapshot: an event committed after the snapshot's
        # read is published after that commit, so it reaches this consumer.
        await self.join(live.execution_group(execution.public_id))
        snapshot = await _execution_snapshot(execution)
        await self.send_json(snapshot)
        if after is None:
            self.last_seq = snapshot["last_seq"]
        else:
            # An ``after`` beyond the snapshot cannot be right (the snapshot includes
            # every committed event); trust the database so new events still flow.
            self.last_seq = min(after, snapshot["last_seq"])
            await self.catch_up()

    async def catch_up(self) -> None:
        """Send every committed event after ``last_seq``, in order, in batches."""
        while True:
            batch = await _events_after(execution=self.execution, after=self.last_seq)
            for message in batch:
                await self.send_json(message)
                self.last_seq = message["seq"]
            if len(batch) < live.REPLAY_BATCH:
                return

    async def on_ping(self) -> None:
        # A ping also repairs the stream: if the publish of the newest event was lost
        # (Redis restarted), no later event would reveal the gap. So a pong means
        # "you have every event committed before your ping". One indexed query.
        await self.catch_up()

    async def still_readable(self) -> bool:
        found = await _execution_readable(user=self.user, public_id=self.execution.public_id)
        return found is not None

    async def execution_event(self, message: dict[str, Any]) -> None:
        """A live event from the channel layer (``live.GROUP_MESSAGE_TYPE``)."""
        if self.ended:
            return
        event = message["event"]
        seq = event["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self.catch_up()  # sends this event too, when the database has it
            if seq <= self.last_seq:
                return
        await self.send_json(event)
        self.last_seq = seq


class WorkflowConsumer(_LiveConsumer):
    """``ws/workflows/<workflow_id>/``: recent executions, then every execution's events.

    Per execution, events after the snapshot's ``last_seq`` (from ``seq`` 1 for an
    execution the snapshot did not list, such as one started after connecting)
    arrive once each and in order. No ``?after=``: a reconnecting client reads the
    fresh snapshot, and opens an execution socket with ``?after=`` for a full log.
    """

    workflow: Workflow
    last_seq: dict[str, int]

    async def connect(self) -> None:
        user = self.signed_in_user()
        if user is None:
            await self.refuse(CLOSE_UNAUTHENTICATED, "authentication required")
            return
        public_id = self.scope["url_route"]["kwargs"]["workflow_id"]
        workflow = await _workflow_for_user(user=user, public_id=public_id)
        if workflow is None:
            await self.refuse(CLOSE_NOT_FOUND, "workflow not found")
            return
        self.workflow, self.user = workflow, user
        await self.accept()
        if not await self.watch_access(workflow.public_id):
            return
        await self.join(live.workflow_group(workflow.public_id))  # before the snapshot
        snapshot = await _workflow_snapshot(workflow)
        await self.send_json(snapshot)
        self.last_seq = {row["execution_id"]: row["last_seq"] for row in snapshot["executions"]}

    async def catch_up(self, execution_id: str) -> None:
        while True:
            batch = await _workflow_events_after(
                workflow=self.workflow,
                execution_public_id=execution_id,
                after=self.last_seq.get(execution_id, 0),
            )
            for message in batch:
                await self.send_json(message)
                self.last_seq[execution_id] = message["seq"]
            if len(batch) < live.REPLAY_BATCH:
                return

    async def still_readable(self) -> bool:
        found = await _workflow_for_user(user=self.user, public_id=self.workflow.public_id)
        return found is not None

    async def execution_event(self, message: dict[str, Any]) -> None:
        """A live event of any execution of this workflow."""
        if self.ended:
            return
        event = message["event"]
        execution_id, seq = event["execution_id"], event["seq"]
        last = self.last_seq.get(execution_id, 0)
        if seq <= last:
            return
        if seq > last + 1:
            await self.catch_up(execution_id)
            if seq <= self.last_seq.get(execution_id, 0):
                return
        await self.send_json(event)
        self.last_seq[execution_id] = seq


class NotFoundConsumer(_LiveConsumer):
    """Any other websocket path: a clean 4404 instead of a routing error in the log."""

    async def connect(self) -> None:
        await self.refuse(CLOSE_NOT_FOUND, "no such stream")
