"""Live events over a real websocket: a Daphne process, Redis, and the test database.

The server is a child process on a loopback port (``tests.live_server``), so these
tests exercise the real handshake, Origin check, authentication, channel layer and
close codes. Executions and events are written directly with the models, the way
the engine writes them (lock the execution, number the event, publish on commit).
Every wait is bounded (``TIMEOUT``) and fails with what it was waiting for.

alice owns the workflow; bob is on her team; charlie has no access.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from executions import live
from executions.models import Execution, ExecutionEvent, ExecutionStatus, StepRun, StepStatus
from tests.conftest import client_for
from tests.live_server import DaphneServer
from workflows.models import Workflow
from workflows.tokens import api_token_create

TIMEOUT = 10.0

# docs/events.md: the documented keys of each message.
EVENT_KEYS = {"kind", "seq", "type", "execution_id", "workflow_id", "step", "payload", "at"}
SNAPSHOT_KEYS = {
    "kind",
    "execution_id",
    "workflow_id",
    "status",
    "last_seq",
    "created_at",
    "started_at",
    "completed_at",
    "total_cost",
    "steps",
}
STEP_KEYS = {
    "key",
    "step_id",
    "status",
    "waiting",
    "attempt_history",
    "attempt",
    "model_used",
    "error_type",
    "error_message",
    "cost",
    "started_at",
    "completed_at",
}
WORKFLOW_SNAPSHOT_KEYS = {"kind", "workflow_id", "executions"}
WORKFLOW_EXECUTION_KEYS = {
    "execution_id",
    "status",
    "is_test",
    "last_seq",
    "created_at",
    "started_at",
    "completed_at",
    "total_cost",
}


# --- the server ------------------------------------------------------------------------


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout=6 * TIMEOUT))


@asynccontextmanager
async def open_ws(
    server: DaphneServer,
    path: str,
    *,
    bearer: str | None = None,
    cookie: str | None = None,
    origin: str | None = None,
    **query: Any,
) -> AsyncIterator[ClientConnection]:
    """A websocket client like the SDK's: no ``Origin`` unless given (browsers send one)."""
    headers: dict[str, str] = {}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    if cookie is not None:
        headers["Cookie"] = cookie
    async with connect(
        server.url(path, **query),
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        proxy=None,
        open_timeout=TIMEOUT,
        close_timeout=2,
    ) as ws:
        yield ws


async def recv(ws: ClientConnection, what: str) -> dict[str, Any]:
    try:
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
    except TimeoutError:
        pytest.fail(f"no message within {TIMEOUT:.0f} s while waiting for {what}")
    except ConnectionClosed as exc:
        pytest.fail(f"the server closed the socket ({exc.rcvd}) while we waited for {what}")
    return json.loads(raw)


async def events_until(
    ws: ClientConnection, last_seq: int, *, execution_id: str | None = None
) -> list[dict[str, Any]]:
    """Messages up to and including the event ``last_seq`` (of ``execution_id``)."""
    got: list[dict[str, Any]] = []
    while True:
        message = await recv(ws, f"event #{last_seq} (received so far: {_seqs(got)})")
        got.append(message)
        if (
            message.get("kind") == "event"
            and message["seq"] >= last_seq
            and (execution_id is None or message["execution_id"] == execution_id)
        ):
            return got


async def assert_nothing_more(ws: ClientConnection) -> None:
    """A ping's pong comes after every event the server holds for us: nothing else may."""
    await ws.send(json.dumps({"type": "ping"}))
    assert await recv(ws, "pong") == {"kind": "pong"}


async def close_code(ws: ClientConnection) -> tuple[int | None, str]:
    try:
        message = await asyncio.wait_for(ws.recv(), TIMEOUT)
    except TimeoutError:
        pytest.fail(f"the server did not close the socket within {TIMEOUT:.0f} s")
    except ConnectionClosed as exc:
        return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")
    pytest.fail(f"expected the server to close the socket, got {message!r}")


def _seqs(messages: list[dict[str, Any]]) -> list[Any]:
    return [m.get("seq", m.get("kind")) for m in messages]


# --- rows, the way the engine writes them -----------------------------------------------


def token(user: Any) -> str:
    return api_token_create(user=user, name="websocket").key


def new_execution(
    workflow_public_id: str, user: Any, steps: tuple[str, ...] = ("clean", "summary")
) -> Execution:
    workflow = Workflow.objects.select_related("current_version").get(public_id=workflow_public_id)
    version = workflow.current_version
    assert version is not None
    execution = Execution.objects.create(
        workflow=workflow,
        version=version,
        definition=version.definition,
        created_by=user,
        status=ExecutionStatus.RUNNING,
        started_at=timezone.now(),
    )
    StepRun.objects.bulk_create(
        [StepRun(execution=execution, key=key, step_id=key) for key in steps]
    )
    return execution


def emit(
    execution_pk: int, type_: str, *, step: str = "", publish: bool = True, **payload: Any
) -> int:
    """Append the next event under the execution's row lock and publish it on commit.

    ``publish=False`` stands for a publish that Redis lost.
    """
    with transaction.atomic():
        execution = (
            Execution.objects.select_for_update().select_related("workflow").get(pk=execution_pk)
        )
        execution.event_seq += 1
        execution.save(update_fields=["event_seq"])
        event = ExecutionEvent.objects.create(
            execution=execution,
            seq=execution.event_seq,
            type=type_,
            step_key=step,
            payload=payload,
        )
        if publish:
            live.event_publish_on_commit(event)
    return event.seq


# From inside the test's event loop the ORM runs in a worker thread, whose database
# connection Channels closes after each call.
aemit = database_sync_to_async(emit)


class Producer(threading.Thread):
    """Keeps the run going in the background: emits events ``start..stop`` at a steady pace.

    It sets ``reached`` once event ``signal_at`` is written, then, after ``pause_at``,
    waits for ``resume`` (so the test controls which events are emitted while it is
    disconnected, while it is (re)connecting, and while it is listening).
    """

    def __init__(
        self, execution_pk: int, *, start: int, stop: int, signal_at: int, pause_at: int
    ) -> None:
        super().__init__(daemon=True)
        self.execution_pk = execution_pk
        self.range = range(start, stop + 1)
        self.signal_at, self.pause_at = signal_at, pause_at
        self.reached, self.resume = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for expected in self.range:
                seq = emit(self.execution_pk, "step.running", step="clean", attempt=expected)
                assert seq == expected, (seq, expected)
                if seq == self.signal_at:
                    self.reached.set()
                if seq == self.pause_at and not self.resume.wait(TIMEOUT):
                    raise TimeoutError("the test never resumed the producer")
                time.sleep(0.003)  # pacing, not synchronization
        except BaseException as exc:
            self.error = exc
            self.reached.set()
        finally:
            connection.close()


# --- authentication and permissions ------------------------------------------------------


def test_token_in_authorization_header_is_accepted(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)

    async def scenario() -> dict[str, Any]:
        # No Origin header, like the SDK: allowed, it is not a browser.
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            return await recv(ws, "the snapshot")

    snapshot = run(scenario())
    assert snapshot["kind"] == "snapshot"
    assert snapshot["execution_id"] == execution.public_id


def test_token_in_query_string_is_accepted(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)

    async def scenario() -> dict[str, Any]:
        async with open_ws(server, f"ws/executions/{execution.public_id}", token=key) as ws:
            return await recv(ws, "the snapshot")

    assert run(scenario())["kind"] == "snapshot"


def test_session_cookie_from_our_own_page_is_accepted(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    browser = Client()
    browser.force_login(alice)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value

    async def scenario() -> dict[str, Any]:
        async with open_ws(
            server,
            f"ws/executions/{execution.public_id}/",
            cookie=f"{settings.SESSION_COOKIE_NAME}={session}",
            origin=server.origin,
        ) as ws:
            return await recv(ws, "the snapshot")

    assert run(scenario())["kind"] == "snapshot"


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"bearer": "prsm_not-a-real-key"},
        {"token": "prsm_not-a-real-key"},
        {"bearer": "prsm_a prsm_b"},
    ],
    ids=["none", "bad-header-token", "bad-query-token", "malformed-header"],
)
def test_anonymous_is_refused_with_4401(
    server: DaphneServer, alice: Any, alice_workflow: str, credentials: dict[str, str]
) -> None:
    execution = new_execution(alice_workflow, alice)
    bearer = credentials.get("bearer")
    query = {k: v for k, v in credentials.items() if k != "bearer"}

    async def scenario() -> tuple[int | None, str]:
        async with open_ws(
            server, f"ws/executions/{execution.public_id}/", bearer=bearer, **query
        ) as ws:
            return await close_code(ws)

    code, reason = run(scenario())
    assert code == 4401, reason


def test_invalid_token_is_not_rescued_by_a_session_cookie(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    browser = Client()
    browser.force_login(alice)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value

    async def scenario() -> tuple[int | None, str]:
        async with open_ws(
            server,
            f"ws/executions/{execution.public_id}/",
            bearer="prsm_revoked-or-wrong",
            cookie=f"{settings.SESSION_COOKIE_NAME}={session}",
        ) as ws:
            return await close_code(ws)

    assert run(scenario())[0] == 4401


@pytest.mark.parametrize("stream", ["execution", "workflow"])
def test_user_without_read_access_gets_4404(
    server: DaphneServer, alice: Any, charlie: Any, alice_workflow: str, stream: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    path = (
        f"ws/executions/{execution.public_id}/"
        if stream == "execution"
        else f"ws/workflows/{alice_workflow}/"
    )
    key = token(charlie)

    async def scenario() -> tuple[int | None, str]:
        async with open_ws(server, path, bearer=key) as ws:
            return await close_code(ws)

    assert run(scenario())[0] == 4404


@pytest.mark.parametrize(
    "path", ["ws/executions/exec_doesnotexist/", "ws/workflows/wf_nope/", "ws/nothing-here/"]
)
def test_unknown_stream_gets_4404_like_a_forbidden_one(
    server: DaphneServer, alice: Any, path: str
) -> None:
    key = token(alice)

    async def scenario() -> tuple[int | None, str]:
        async with open_ws(server, path, bearer=key) as ws:
            return await close_code(ws)

    assert run(scenario())[0] == 4404


def test_team_member_with_read_grant_may_watch(
    server: DaphneServer, alice: Any, bob: Any, alice_workflow: str
) -> None:
    granted = client_for(alice).post(
        f"/api/v1/workflows/{alice_workflow}/permissions",
        {"read": ["team:researchers"]},
        format="json",
    )
    assert granted.status_code == 200, granted.content
    execution = new_execution(alice_workflow, alice)
    key = token(bob)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            execution_snapshot = await recv(ws, "the execution snapshot")
        async with open_ws(server, f"ws/workflows/{alice_workflow}/", bearer=key) as ws:
            return execution_snapshot, await recv(ws, "the workflow snapshot")

    execution_snapshot, workflow_snapshot = run(scenario())
    assert execution_snapshot["kind"] == workflow_snapshot["kind"] == "snapshot"


def test_browser_on_a_foreign_origin_is_refused(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)

    async def scenario() -> None:
        async with open_ws(
            server,
            f"ws/executions/{execution.public_id}/",
            bearer=key,
            origin="https://evil.example.org",
        ):
            pass

    with pytest.raises(InvalidStatus) as refused:
        run(scenario())
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("after", ["x", "-1", "1.5", "", "99999999999"])
def test_malformed_after_is_refused_with_4400(
    server: DaphneServer, alice: Any, alice_workflow: str, after: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)

    async def scenario() -> tuple[int | None, str]:
        async with open_ws(
            server, f"ws/executions/{execution.public_id}/", bearer=key, after=after
        ) as ws:
            return await close_code(ws)

    assert run(scenario())[0] == 4400


# --- the stream ---------------------------------------------------------------------------


def test_snapshot_comes_first_and_describes_every_step(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    StepRun.objects.filter(execution=execution, key="clean").update(
        status=StepStatus.COMPLETED,
        attempt=1,
        cost=Decimal("0.001500"),
        model_used="builtin/cleaner",
        started_at=timezone.now(),
        completed_at=timezone.now(),
    )
    emit(execution.pk, "step.completed", step="clean", publish=False)
    key = token(alice)

    async def scenario() -> dict[str, Any]:
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            snapshot = await recv(ws, "the snapshot")
            await assert_nothing_more(ws)  # no replay without ?after=
            return snapshot

    snapshot = run(scenario())
    assert set(snapshot) == SNAPSHOT_KEYS
    assert snapshot["workflow_id"] == alice_workflow
    assert snapshot["status"] == "running"
    assert snapshot["last_seq"] == 1
    steps = {step["key"]: step for step in snapshot["steps"]}
    assert [step["key"] for step in snapshot["steps"]] == ["clean", "summary"]
    assert all(set(step) == STEP_KEYS for step in snapshot["steps"])
    assert steps["clean"]["status"] == "completed"
    assert steps["clean"]["cost"] == pytest.approx(0.0015)
    assert steps["clean"]["model_used"] == "builtin/cleaner"
    assert steps["summary"]["status"] == "pending"
    assert steps["summary"]["started_at"] is None
    assert steps["clean"]["waiting"] is None  # finished: it waits for nothing
    assert steps["summary"]["waiting"]["reason"] == "dependencies"


def test_live_events_arrive_once_and_in_order(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)
    count = 30

    async def scenario() -> list[dict[str, Any]]:
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            assert (await recv(ws, "the snapshot"))["last_seq"] == 0
            for i in range(count):
                await aemit(execution.pk, "step.running", step="clean", attempt=i)
            got = await events_until(ws, count)
            await assert_nothing_more(ws)
            return got

    got = run(scenario())
    assert [m["seq"] for m in got] == list(range(1, count + 1))


def test_reconnect_with_after_replays_exactly_the_missed_events(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    """While the client is away and while it reconnects, the run keeps emitting.

    Events 1-5 are seen live; 6-30 are emitted while disconnected (replayed from the
    database); 31-55 race with the handshake, snapshot and replay; 56-80 are live
    again. The client must see 6..80 exactly once each, in order.
    """
    execution = new_execution(alice_workflow, alice)
    key = token(alice)
    path = f"ws/executions/{execution.public_id}/"
    producer = Producer(execution.pk, start=6, stop=80, signal_at=30, pause_at=55)

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with open_ws(server, path, bearer=key) as ws:
            await recv(ws, "the first snapshot")
            for i in range(5):
                await aemit(execution.pk, "step.queued", step="clean", attempt=i)
            first = await events_until(ws, 5)
            assert [m["seq"] for m in first] == [1, 2, 3, 4, 5]
        producer.start()
        if not await asyncio.to_thread(producer.reached.wait, TIMEOUT):
            pytest.fail("the producer did not reach event 30")
        async with open_ws(server, path, bearer=key, after=5) as ws:
            snapshot = await recv(ws, "the snapshot after reconnecting")
            producer.resume.set()
            got = await events_until(ws, 80)
            await assert_nothing_more(ws)
            return snapshot, got

    try:
        snapshot, got = run(scenario())
    finally:
        producer.resume.set()
        producer.join(TIMEOUT)
    assert producer.error is None, producer.error
    assert snapshot["kind"] == "snapshot"
    seqs = [m["seq"] for m in got]
    assert seqs == list(range(6, 81)), f"gaps or duplicates: {seqs}"


def test_after_beyond_the_last_event_still_gets_new_events(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    emit(execution.pk, "execution.started")
    key = token(alice)

    async def scenario() -> list[dict[str, Any]]:
        async with open_ws(
            server, f"ws/executions/{execution.public_id}/", bearer=key, after=40
        ) as ws:
            await recv(ws, "the snapshot")
            await aemit(execution.pk, "step.queued", step="clean")
            return await events_until(ws, 2)

    assert [m["seq"] for m in run(scenario())] == [2]


def test_a_lost_publish_is_filled_in_from_the_database(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)

    async def scenario() -> list[dict[str, Any]]:
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            await recv(ws, "the snapshot")
            await aemit(execution.pk, "step.queued", step="clean")
            await aemit(execution.pk, "step.running", step="clean", publish=False)  # lost
            await aemit(execution.pk, "step.completed", step="clean")
            return await events_until(ws, 3)

    got = run(scenario())
    assert [(m["seq"], m["type"]) for m in got] == [
        (1, "step.queued"),
        (2, "step.running"),
        (3, "step.completed"),
    ]


def test_ping_delivers_an_unpublished_last_event_before_the_pong(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)

    async def scenario() -> list[dict[str, Any]]:
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            await recv(ws, "the snapshot")
            await aemit(execution.pk, "execution.completed", publish=False)  # lost
            await ws.send(json.dumps({"type": "ping"}))
            return [await recv(ws, "the missed event"), await recv(ws, "the pong")]

    event, pong = run(scenario())
    assert (event["kind"], event["seq"], event["type"]) == ("event", 1, "execution.completed")
    assert pong == {"kind": "pong"}


def test_client_messages_other_than_ping_are_ignored(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)

    async def scenario() -> dict[str, Any]:
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            await recv(ws, "the snapshot")
            await ws.send("not json")
            await ws.send(json.dumps(["a", "list"]))
            await ws.send(json.dumps({"type": "subscribe", "to": "everything"}))
            await ws.send(b"\x00\x01")
            await ws.send(json.dumps({"type": "ping"}))
            return await recv(ws, "the pong")

    assert run(scenario()) == {"kind": "pong"}


def test_workflow_socket_streams_the_events_of_every_execution(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    first = new_execution(alice_workflow, alice)
    second = new_execution(alice_workflow, alice)
    emit(first.pk, "execution.started", publish=False)  # before connecting: in the snapshot
    key = token(alice)
    third_holder: dict[str, Execution] = {}

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with open_ws(server, f"ws/workflows/{alice_workflow}/", bearer=key) as ws:
            snapshot = await recv(ws, "the workflow snapshot")
            await aemit(first.pk, "step.queued", step="clean")
            await aemit(second.pk, "execution.started")
            await aemit(first.pk, "step.running", step="clean")
            await aemit(second.pk, "step.queued", step="clean")
            # A run started after connecting streams from its first event.
            third = await database_sync_to_async(new_execution)(alice_workflow, alice)
            third_holder["third"] = third
            await aemit(third.pk, "execution.started")
            got = await events_until(ws, 1, execution_id=third.public_id)
            await assert_nothing_more(ws)
            return snapshot, got

    snapshot, got = run(scenario())
    third = third_holder["third"]
    assert set(snapshot) == WORKFLOW_SNAPSHOT_KEYS
    listed = {row["execution_id"]: row for row in snapshot["executions"]}
    assert set(listed) == {first.public_id, second.public_id}
    assert all(set(row) == WORKFLOW_EXECUTION_KEYS for row in listed.values())
    assert listed[first.public_id]["last_seq"] == 1
    assert listed[second.public_id]["last_seq"] == 0

    def of(execution: Execution) -> list[tuple[int, str]]:
        return [(m["seq"], m["type"]) for m in got if m["execution_id"] == execution.public_id]

    assert of(first) == [(2, "step.queued"), (3, "step.running")]
    assert of(second) == [(1, "execution.started"), (2, "step.queued")]
    assert of(third) == [(1, "execution.started")]
    assert {m["workflow_id"] for m in got} == {alice_workflow}


def test_event_message_matches_the_documented_schema(
    server: DaphneServer, alice: Any, alice_workflow: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    key = token(alice)
    payload = {
        "status": "completed",
        "attempt": 2,
        "model": "builtin/extractive-summary",
        "cost": 0.0042,
        "result_preview": "A short summary…",
    }

    async def scenario() -> dict[str, Any]:
        async with open_ws(server, f"ws/executions/{execution.public_id}/", bearer=key) as ws:
            await recv(ws, "the snapshot")
            await aemit(execution.pk, "step.completed", step="summary", **payload)
            return (await events_until(ws, 1))[0]

    message = run(scenario())
    assert set(message) == EVENT_KEYS
    assert message["kind"] == "event"
    assert message["seq"] == 1
    assert message["type"] == "step.completed"
    assert message["execution_id"] == execution.public_id
    assert message["workflow_id"] == alice_workflow
    assert message["step"] == "summary"
    assert message["payload"] == payload
    row = ExecutionEvent.objects.select_related("execution__workflow").get(
        execution=execution, seq=1
    )
    assert message == json.loads(json.dumps(live.event_payload(row)))


# --- the publishing side, without a server ------------------------------------------------


@pytest.mark.django_db
def test_event_payload_round_trips_through_json(alice: Any, alice_workflow: str) -> None:
    execution = new_execution(alice_workflow, alice)
    event = ExecutionEvent.objects.create(
        execution=execution,
        seq=1,
        type="execution.started",
        payload={"status": "running", "inputs": ["text"]},
    )
    message = live.event_payload(event)
    assert json.loads(json.dumps(message)) == message
    assert set(message) == EVENT_KEYS
    assert message["step"] is None
    assert message["at"] == event.created_at.isoformat()
    assert message["type"] in live.EVENT_TYPES


@pytest.mark.django_db
@pytest.mark.parametrize("steps", [2, 12])
def test_snapshot_costs_two_queries_whatever_the_number_of_steps(
    alice: Any, alice_workflow: str, django_assert_num_queries: Any, steps: int
) -> None:
    created = new_execution(alice_workflow, alice, steps=tuple(f"s{i}" for i in range(steps)))
    execution = Execution.objects.select_related("workflow").get(pk=created.pk)
    with django_assert_num_queries(2):
        snapshot = live.execution_snapshot(execution)
    assert len(snapshot["steps"]) == steps
    assert json.loads(json.dumps(snapshot)) == snapshot


@pytest.mark.django_db
def test_group_names_are_valid_channel_group_names(alice: Any, alice_workflow: str) -> None:
    execution = new_execution(alice_workflow, alice)
    for name in (live.execution_group(execution.public_id), live.workflow_group(alice_workflow)):
        assert len(name) < 100
        assert live._GROUP_NAME.match(name)
    with pytest.raises(ValueError):
        live.execution_group("exec with spaces")


@pytest.mark.django_db
def test_publish_failure_is_logged_and_never_breaks_the_commit(
    alice: Any,
    alice_workflow: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # nothing listens on port 1
    publisher = live._GroupPublisher(timeout=0.5, backoff=60, url="redis://127.0.0.1:1/0")
    monkeypatch.setattr(live, "_publisher", publisher)
    execution = new_execution(alice_workflow, alice)
    with caplog.at_level(logging.WARNING, logger="executions.live"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            seq = emit(execution.pk, "execution.started")
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            emit(execution.pk, "step.queued")  # suspended: dropped without trying
        assert time.monotonic() - started < 0.1
    assert seq == 1
    assert len(callbacks) == 1
    assert ExecutionEvent.objects.filter(execution=execution).count() == 2
    assert caplog.text.count("Could not publish live event") == 1


def test_published_messages_reach_a_channel_layer_subscriber() -> None:
    """What the publisher writes to Redis is what the layer's own ``group_send`` would
    have: a subscriber added with ``group_add`` receives it, unchanged and in order."""
    from channels.layers import get_channel_layer

    async def scenario() -> list[dict[str, Any]]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("execution.exec_publish_test", channel)
        await layer.group_add("workflow.wf_publish_test", channel)
        messages = [
            {"type": live.GROUP_MESSAGE_TYPE, "event": {"seq": n, "payload": {"n": [n, "é"]}}}
            for n in (1, 2)
        ]
        publisher = live._GroupPublisher()
        await asyncio.to_thread(
            publisher.publish_all,
            [(("execution.exec_publish_test", "workflow.wf_publish_test"), m) for m in messages],
        )
        received = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(4)]
        await layer.flush()
        return received

    received = asyncio.run(scenario())
    assert [m["event"]["seq"] for m in received] == [1, 1, 2, 2]
    assert received[0] == {
        "type": live.GROUP_MESSAGE_TYPE,
        "event": {"seq": 1, "payload": {"n": [1, "é"]}},
    }


@pytest.mark.django_db
def test_rolled_back_event_is_never_published(
    alice: Any,
    alice_workflow: str,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[Any] = []
    monkeypatch.setattr(live, "_publish", lambda groups, message: sent.append(message))
    execution = new_execution(alice_workflow, alice)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        event = ExecutionEvent.objects.create(execution=execution, seq=1, type="step.queued")
        live.event_publish_on_commit(event)
        raise RuntimeError("the transition failed")
    assert sent == []
