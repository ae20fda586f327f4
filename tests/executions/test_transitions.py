"""The transition table and the one service that applies it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from executions.core import states
from executions.core.states import IllegalTransition, StepStatus
from executions.models import Execution, StepRun
from executions.services import advance, transitions
from executions.services.lifecycle import execution_start
from executions.services.tx import Tx
from workflows import services
from workflows.definition_checks import definition_require_valid

ROOT = Path(__file__).resolve().parents[2]
CHAIN = {
    "name": "chain",
    "steps": [
        {"id": "a", "type": "data_processing", "function": "clean_text", "input": "x"},
        {"id": "b", "type": "data_processing", "function": "clean_text", "input": "${a.result}"},
    ],
}


def test_every_status_write_goes_through_the_transition_service() -> None:
    """No module but ``transitions`` and its ``statements`` writes a status: an
    ``update(status=…)``, a ``SET status`` or an assignment to ``.status``."""
    writes = re.compile(r"\.update\([^)]*\bstatus=|SET status\b|(?<!self)\.status\s*=[^=]")
    allowed = {"executions/services/transitions.py", "executions/services/statements.py"}
    found = []
    for path in sorted((ROOT / "executions").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed or "/migrations/" in rel:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if writes.search(line) and "WebhookDelivery" not in line:
                found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []


def test_the_table_refuses_a_move_it_does_not_list() -> None:
    with pytest.raises(IllegalTransition):
        states.step_move(StepStatus.COMPLETED, StepStatus.RUNNING, "step.running")
    with pytest.raises(IllegalTransition):  # a composite never takes a slot as running
        states.step_move(StepStatus.PENDING, StepStatus.RUNNING, "step.running")
    assert (
        states.replay_step(
            [
                ("step.queued", "queued"),
                ("step.running", "running"),
                ("step.completed", "completed"),
            ]
        )
        == StepStatus.COMPLETED
    )


def test_waiting_holds_no_slot_and_every_open_status_can_be_cancelled() -> None:
    assert StepStatus.WAITING not in states.SLOT_HOLDING
    for status in states.STEP_OPEN:
        states.step_move(status, StepStatus.CANCELLED, "step.cancelled")


def _started(user: Any) -> Execution:
    """A started run whose transaction never commits (the tests below use the
    ordinary ``django_db`` transaction): nothing is published, so a worker left
    running by an earlier test in the session never sees, or moves, these steps."""
    checked = definition_require_valid(CHAIN, user=user)
    wf = services.workflow_create(
        owner=user, definition=checked.definition, document=checked.document
    )
    return execution_start(workflow=wf, user=user, inputs={}, config={})


@pytest.mark.django_db
def test_a_stale_move_changes_nothing_and_records_no_event(alice: Any) -> None:
    ex = _started(alice)
    with transaction.atomic():
        tx = Tx.lock(ex.pk)
        run = StepRun.objects.get(execution=ex, key="b")
        StepRun.objects.filter(pk=run.pk).update(status=StepStatus.SKIPPED)  # moved meanwhile
        assert not transitions.step_move(tx, run, StepStatus.READY, "step.ready")
        assert tx.events == []


@pytest.mark.django_db
def test_a_stalled_execution_is_failed_naming_its_steps(alice: Any) -> None:
    """Open steps and nothing that could move them (here made by hand: no engine path
    leads there) end the run with a ``stalled`` error that names each step."""
    ex = _started(alice)
    StepRun.objects.filter(execution=ex).update(status=StepStatus.PENDING)  # nothing queued
    with transaction.atomic():
        tx = Tx.lock(ex.pk)
        assert advance.execution_fail_if_stalled(tx)
        tx.flush()
    ex.refresh_from_db()
    assert ex.status == "failed"
    error = ex.error
    assert error is not None
    assert error["type"] == "stalled"
    assert error["steps"] == ["a", "b"]
    assert "a (pending)" in error["message"] and "b (pending)" in error["message"]
    assert set(StepRun.objects.filter(execution=ex).values_list("status", flat=True)) == {
        "cancelled"
    }


@pytest.mark.django_db
def test_a_run_with_queued_work_is_not_stalled(alice: Any) -> None:
    ex = _started(alice)  # "a" is queued; nothing was published
    with transaction.atomic():
        tx = Tx.lock(ex.pk)
        assert not advance.execution_fail_if_stalled(tx)
    ex.refresh_from_db()
    assert ex.status == "running"
