"""A websocket client watches a real run: every step's events, in order, no gaps."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.executions.helpers import create_workflow, execute, wait_terminal
from tests.executions.test_live import open_ws, recv, token

TERMINAL_EVENTS = {
    "execution.completed",
    "execution.failed",
    "execution.cancelled",
    "execution.timed_out",
}


async def _read_events(ws: Any, *, stop_after: int | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        message = await recv(ws, "an event")
        if message["kind"] != "event":
            continue
        events.append(message)
        if message["type"] in TERMINAL_EVENTS or (stop_after and len(events) >= stop_after):
            return events


def _chain(alice: Any) -> str:
    return create_workflow(
        alice,
        {
            "name": "watched",
            "steps": [
                {
                    "id": f"s{i}",
                    "type": "data_processing",
                    "function": "sleep",
                    "input": i,
                    "parameters": {"seconds": 0.3},
                    **({"depends_on": [f"s{i - 1}"]} if i else {}),
                }
                for i in range(4)
            ],
        },
    )


def test_client_sees_every_step_event_in_order(server: Any, worker: Any, alice: Any) -> None:
    wf = _chain(alice)
    key = token(alice)
    ex = execute(alice, wf)

    async def watch() -> list[dict[str, Any]]:
        async with open_ws(server, f"ws/executions/{ex}/", bearer=key, after=0) as ws:
            snapshot = await recv(ws, "the snapshot")
            assert snapshot["kind"] == "snapshot"
            return await _read_events(ws)

    events = asyncio.run(asyncio.wait_for(watch(), 60))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "execution.completed"
    for i in range(4):
        mine = [e["type"] for e in events if e["step"] == f"s{i}"]
        assert mine == ["step.queued", "step.running", "step.completed"], mine
    order = [e["step"] for e in events if e["type"] == "step.completed"]
    assert order == ["s0", "s1", "s2", "s3"]
    wait_terminal(ex)


def test_dropped_connection_resumes_without_a_gap(server: Any, worker: Any, alice: Any) -> None:
    wf = _chain(alice)
    key = token(alice)
    ex = execute(alice, wf)

    async def watch() -> list[dict[str, Any]]:
        async with open_ws(server, f"ws/executions/{ex}/", bearer=key, after=0) as ws:
            await recv(ws, "the snapshot")
            first = await _read_events(ws, stop_after=4)
        await asyncio.sleep(0.8)  # the run goes on while we are away
        async with open_ws(
            server, f"ws/executions/{ex}/", bearer=key, after=first[-1]["seq"]
        ) as ws:
            await recv(ws, "the snapshot")
            rest = await _read_events(ws)
        return first + rest

    events = asyncio.run(asyncio.wait_for(watch(), 60))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "execution.completed"
    wait_terminal(ex)
