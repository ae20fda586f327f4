"""A join's readiness work is linear in its width, not quadratic.

Each time one of a wide join's dependencies finishes, the engine counts the join's
open dependencies down on its row instead of re-reading every unfinished one; the
join's dependencies are read once, when the count reaches zero. The readiness
query's rows are counted here (the engine in this process, the broker a list, as
in the liveness property test) for a 1 → N → 1 fan-out and fan-in.
"""

from __future__ import annotations

from random import Random
from typing import Any

import pytest

from executions.models import Execution, StepRun
from executions.services import statements
from tests.conftest import client_for
from tests.executions.helpers import create_workflow
from tests.executions.test_liveness_property import ListBroker, deliver, list_broker  # noqa: F401


def _fan(width: int) -> dict[str, Any]:
    noop = {"type": "data_processing", "function": "noop"}
    return {
        "name": f"fan {width}",
        "steps": [
            {"id": "root", **noop, "input": "x"},
            *({"id": f"f{i}", **noop, "input": "${root.result}"} for i in range(width)),
            {"id": "join", **noop, "input": "done", "depends_on": [f"f{i}" for i in range(width)]},
        ],
    }


def _rows_read_by_readiness(
    broker: ListBroker, user: Any, width: int, monkeypatch: pytest.MonkeyPatch, seed: int
) -> int:
    read = 0
    original = statements.readiness_rows

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal read
        rows, load = original(*args, **kwargs)
        read += len(rows)
        return rows, load

    monkeypatch.setattr(statements, "readiness_rows", counting)
    wf = create_workflow(user, _fan(width))
    response = client_for(user).post(
        f"/api/v1/workflows/{wf}/execute",
        {"execution_config": {"max_parallel_steps": 10}},
        format="json",
    )
    assert response.status_code == 201, response.content
    rng = Random(seed)
    while broker.messages:
        message = broker.next_due(rng)
        broker.messages.remove(message)
        deliver(message.dispatch, continue_for=None)
    monkeypatch.setattr(statements, "readiness_rows", original)
    execution = Execution.objects.get(public_id=response.json()["execution_id"])
    assert execution.status == "completed", execution.error
    join = StepRun.objects.get(execution=execution, key="join")
    assert join.status == "completed"
    return read


def test_the_rows_a_join_reads_grow_linearly_with_its_width(
    list_broker: ListBroker,  # noqa: F811 - the fixture imported above
    alice: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    narrow = _rows_read_by_readiness(list_broker, alice, 30, monkeypatch, seed=1)
    wide = _rows_read_by_readiness(list_broker, alice, 120, monkeypatch, seed=2)
    # four times the width: about four times the rows (a quadratic join reads ~16 times)
    print(f"rows read by readiness: width 30: {narrow}, width 120: {wide}")
    assert wide <= 5 * narrow, (narrow, wide)
    assert wide <= 3 * 120, wide  # a few rows per step, whatever the width
