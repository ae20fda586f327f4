"""Access ends when it is revoked, on sockets already open.

Over the real Daphne process and Redis, as ``test_live``: a socket opened while
its user could read the workflow closes with 4403 once they cannot (grants
changed, removed from the team, workflow deleted), and one opened with an API
token closes with 4401 once the token is revoked. The change is made in this
process; the server hears of it through the channel layer.

alice owns the workflow; bob is on her team "researchers"; charlie has no access.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group

from tests.conftest import client_for
from tests.executions.test_live import (
    aemit,
    assert_nothing_more,
    close_code,
    events_until,
    new_execution,
    open_ws,
    recv,
    run,
)
from tests.live_server import DaphneServer
from workflows import teams
from workflows.models import ApiToken
from workflows.tokens import api_token_create

STREAMS = ["execution", "workflow"]


def _path(stream: str, workflow_id: str, execution_id: str) -> str:
    if stream == "execution":
        return f"ws/executions/{execution_id}/"
    return f"ws/workflows/{workflow_id}/"


def _share(workflow_id: str, owner: Any, grants: dict[str, list[str]]) -> None:
    response = client_for(owner).post(
        f"/api/v1/workflows/{workflow_id}/permissions", grants, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("stream", STREAMS)
def test_reader_whose_grant_is_removed_is_closed_with_4403(
    server: DaphneServer, alice: Any, bob: Any, alice_workflow: str, stream: str
) -> None:
    _share(alice_workflow, alice, {"read": ["team:researchers"]})
    execution = new_execution(alice_workflow, alice)
    key = api_token_create(user=bob, name="websocket").key

    async def scenario() -> tuple[int | None, str]:
        path = _path(stream, alice_workflow, execution.public_id)
        async with open_ws(server, path, bearer=key) as ws:
            assert (await recv(ws, "the snapshot"))["kind"] == "snapshot"
            await _ashare(alice_workflow, alice, {"read": []})
            await aemit(execution.pk, "step.running", step="clean", attempt=1)
            return await close_code(ws)  # fails if the event arrives instead

    assert run(scenario())[0] == 4403


@pytest.mark.parametrize("stream", STREAMS)
def test_a_change_that_leaves_read_access_closes_nothing(
    server: DaphneServer, alice: Any, bob: Any, charlie: Any, alice_workflow: str, stream: str
) -> None:
    _share(alice_workflow, alice, {"read": ["bob"]})
    execution = new_execution(alice_workflow, alice)
    key = api_token_create(user=bob, name="websocket").key

    async def scenario() -> list[dict[str, Any]]:
        path = _path(stream, alice_workflow, execution.public_id)
        async with open_ws(server, path, bearer=key) as ws:
            await recv(ws, "the snapshot")
            await _ashare(alice_workflow, alice, {"read": ["bob", "charlie"]})
            # Published after the notice, on the same Redis: handled after it.
            seq = await aemit(execution.pk, "step.running", step="clean", attempt=1)
            got = await events_until(ws, seq, execution_id=execution.public_id)
            await assert_nothing_more(ws)
            return got

    assert [m["type"] for m in run(scenario())] == ["step.running"]


@pytest.mark.parametrize("stream", STREAMS)
def test_member_removed_from_the_granted_team_is_closed_with_4403(
    server: DaphneServer, alice: Any, bob: Any, team: Group, alice_workflow: str, stream: str
) -> None:
    _share(alice_workflow, alice, {"read": ["team:researchers"]})
    execution = new_execution(alice_workflow, alice)
    key = api_token_create(user=bob, name="websocket").key

    async def scenario() -> tuple[int | None, str]:
        path = _path(stream, alice_workflow, execution.public_id)
        async with open_ws(server, path, bearer=key) as ws:
            await recv(ws, "the snapshot")
            await _aremove_member(team, "bob")
            return await close_code(ws)

    assert run(scenario())[0] == 4403


def test_deleting_the_workflow_closes_its_readers_with_4403(
    server: DaphneServer, alice: Any, bob: Any, alice_workflow: str
) -> None:
    _share(alice_workflow, alice, {"read": ["bob"]})
    key = api_token_create(user=bob, name="websocket").key

    async def scenario() -> tuple[int | None, str]:
        async with open_ws(server, f"ws/workflows/{alice_workflow}/", bearer=key) as ws:
            await recv(ws, "the snapshot")
            await _adelete(alice_workflow, alice)
            return await close_code(ws)

    assert run(scenario())[0] == 4403


@pytest.mark.parametrize("stream", STREAMS)
def test_socket_opened_with_a_revoked_token_is_closed_with_4401(
    server: DaphneServer, alice: Any, alice_workflow: str, stream: str
) -> None:
    execution = new_execution(alice_workflow, alice)
    new = api_token_create(user=alice, name="websocket")
    other = api_token_create(user=alice, name="another").key

    async def scenario() -> tuple[tuple[int | None, str], dict[str, Any]]:
        path = _path(stream, alice_workflow, execution.public_id)
        async with (
            open_ws(server, path, bearer=new.key) as revoked,
            open_ws(server, path, bearer=other) as kept,
        ):
            await recv(revoked, "the snapshot")
            await recv(kept, "the snapshot")
            await _arevoke(alice, new.token.pk)
            closed = await close_code(revoked)
            seq = await aemit(execution.pk, "step.running", step="clean", attempt=1)
            got = await events_until(kept, seq, execution_id=execution.public_id)
            return closed, got[-1]

    (code, _), event = run(scenario())
    assert code == 4401
    assert event["kind"] == "event"  # the socket opened with another token streams on
    assert ApiToken.objects.get(pk=new.token.pk).revoked_at is not None


# --- the changes, made as the API makes them, from inside the test's event loop ----------


@database_sync_to_async
def _ashare(workflow_id: str, owner: Any, grants: dict[str, list[str]]) -> None:
    _share(workflow_id, owner, grants)


@database_sync_to_async
def _aremove_member(team: Group, username: str) -> None:
    teams.team_member_remove(team=team, username=username)


@database_sync_to_async
def _adelete(workflow_id: str, owner: Any) -> None:
    response = client_for(owner).delete(f"/api/v1/workflows/{workflow_id}")
    assert response.status_code == 204, response.content


@database_sync_to_async
def _arevoke(owner: Any, token_id: int) -> None:
    response = client_for(owner).delete(f"/api/v1/tokens/{token_id}")
    assert response.status_code == 204, response.content


def test_past_the_failed_key_limit_a_websocket_with_a_real_key_is_refused_with_4401(
    server: DaphneServer, alice: Any, alice_workflow: str, settings: Any
) -> None:
    from workflows import ratelimit

    execution = new_execution(alice_workflow, alice)
    key = api_token_create(user=alice, name="websocket").key
    path = f"ws/executions/{execution.public_id}/"

    async def scenario() -> tuple[list[int | None], int | None]:
        refused = []
        for n in range(settings.PRSM_API_KEY_FAILURE_LIMIT):
            async with open_ws(server, path, bearer=f"prsm_made-up-{n}") as ws:
                refused.append((await close_code(ws))[0])
        async with open_ws(server, path, bearer=key) as ws:
            return refused, (await close_code(ws))[0]

    try:
        refused, real = run(scenario())
    finally:
        ratelimit.bearer_failures_reset("127.0.0.1")
    assert refused == [4401] * settings.PRSM_API_KEY_FAILURE_LIMIT
    assert real == 4401
