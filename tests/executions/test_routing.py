"""Honest resource routing: a step goes to a declared queue that offers what it needs,
or the run is refused at execute (400 naming the step and what is missing)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from executions.core.plan import NoQueueFits, QueueSpec, queue_for
from executions.models import Execution, StepRun
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, execute, runs
from workflows.definition.schema import ResourceRequirements

CPU_ONLY = [{"name": "default", "cpu_cores": 8, "ram_gb": 32, "gpu": False}]
WITH_GPU = [*CPU_ONLY, {"name": "gpu", "cpu_cores": 8, "ram_gb": 32, "gpu": True}]


def _steps(**train: Any) -> list[dict[str, Any]]:
    return [
        {"id": "prepare", "type": "data_processing", "function": "noop", "input": 1},
        {
            "id": "train",
            "type": "data_processing",
            "function": "noop",
            "input": "${prepare.result}",
            **train,
        },
    ]


def _execute(user: Any, workflow_id: str) -> Any:
    return client_for(user).post(f"/api/v1/workflows/{workflow_id}/execute", {}, format="json")


def test_a_gpu_step_with_no_gpu_queue_is_refused_and_nothing_is_created(
    db: Any, alice: Any, settings: Any
) -> None:
    settings.PRSM_WORKER_QUEUES = json.dumps(CPU_ONLY)
    wf = create_workflow(
        alice,
        {"name": "gpu", "steps": _steps(resource_requirements={"gpu_required": True})},
    )

    response = _execute(alice, wf)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "steps_not_dispatchable"
    assert body["message"].startswith(
        "step 'train' needs gpu_required; no declared queue offers a GPU (declared: default"
    )
    assert body["errors"] == [
        {"step": "train", "field": "resource_requirements", "message": body["message"]}
    ]
    assert not Execution.objects.exists()
    assert not StepRun.objects.exists()


def test_ram_beyond_every_queue_in_the_workflow_default_is_refused(
    db: Any, alice: Any, settings: Any
) -> None:
    settings.PRSM_WORKER_QUEUES = json.dumps(WITH_GPU)
    wf = create_workflow(
        alice, {"name": "big", "resource_requirements": {"ram_gb": 64}, "steps": _steps()}
    )

    response = _execute(alice, wf)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [e["step"] for e in errors] == ["prepare", "train"]
    assert errors[0]["message"].startswith(
        "step 'prepare' needs ram_gb: 64; no declared queue offers 64 GB RAM (the most is 32)"
    )
    assert not Execution.objects.exists()


def test_a_declared_gpu_queue_takes_the_gpu_step(db: Any, alice: Any, settings: Any) -> None:
    settings.PRSM_WORKER_QUEUES = json.dumps(WITH_GPU)
    wf = create_workflow(
        alice,
        {"name": "gpu", "steps": _steps(resource_requirements={"gpu_required": True})},
    )

    ex = execute(alice, wf)

    assert {key: run.queue for key, run in runs(ex).items()} == {
        "prepare": "default",
        "train": "gpu",
    }


def test_a_loop_body_that_no_queue_fits_is_refused(db: Any, alice: Any, settings: Any) -> None:
    settings.PRSM_WORKER_QUEUES = json.dumps(CPU_ONLY)
    loop = {
        "id": "each",
        "type": "loop",
        "iterate_over": [1, 2],
        "step": {
            "type": "data_processing",
            "function": "noop",
            "input": "${loop.current_item}",
            "resource_requirements": {"cpu_cores": 64},
        },
    }
    wf = create_workflow(alice, {"name": "loop", "steps": [loop]})

    response = _execute(alice, wf)

    assert response.status_code == 400, response.content
    assert response.json()["message"].startswith(
        "step 'each.step' needs cpu_cores: 64; no declared queue offers 64 CPU cores"
    )


# --- the pure core --------------------------------------------------------------------------


QUEUES = [QueueSpec("default", 16, 64), QueueSpec("gpu", 8, 32, gpu=True)]


def test_queue_for_takes_the_first_queue_that_fits() -> None:
    assert queue_for(None, QUEUES) == "default"
    assert queue_for(ResourceRequirements(ram_gb=48), QUEUES) == "default"
    assert queue_for(ResourceRequirements(gpu_required=True), QUEUES) == "gpu"


def test_queue_for_never_falls_back_to_a_queue_that_does_not_fit() -> None:
    with pytest.raises(NoQueueFits) as refused:
        queue_for(ResourceRequirements(gpu_required=True, ram_gb=48), QUEUES)
    # each is offered somewhere, but not by one queue
    assert "no declared queue offers all of that at once" in str(refused.value)
