"""The seed's Python programs, run as written against the live server.

Only ``api_key`` (and the server address) change; the monitoring program gets the
id of a real execution instead of ``exec_xyz789``. Printed output is compared with
what the seed says the programs print.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

import prsm
from tests.engine import ROOT
from tests.sdk.conftest import step_of

QUICK_START = """
import prsm

client = prsm.Client(api_key="your-api-key")

# Define a simple workflow
workflow = client.workflows.create(
    name="Text Analysis Pipeline",
    description="Analyze text sentiment and extract entities",
    steps=[
        {
            "id": "sentiment",
            "type": "inference",
            "model": "cardiffnlp/twitter-roberta-base-sentiment-latest",
            "input": "${workflow.input.text}"
        },
        {
            "id": "entities",
            "type": "inference", 
            "model": "dbmdz/bert-large-cased-finetuned-conll03-english",
            "input": "${workflow.input.text}",
            "depends_on": ["sentiment"]
        },
        {
            "id": "summary",
            "type": "inference",
            "model": "gpt-3.5-turbo",
            "input": "Summarize: Sentiment=${sentiment.result}, Entities=${entities.result}",
            "depends_on": ["sentiment", "entities"]
        }
    ]
)

print(f"Created workflow: {workflow.id}")
"""  # noqa: W291 - verbatim, trailing space included

EXECUTE = """
# Execute the workflow
execution = client.workflows.execute(
    workflow_id=workflow.id,
    inputs={
        "text": "I love using PRSM for AI research! It's revolutionary."
    }
)

print(f"Execution ID: {execution.id}")
"""

MONITORING = """
# Monitor workflow execution in real-time
monitor = client.workflows.monitor(execution_id="exec_xyz789")

@monitor.on_step_completed
def step_completed(step_id, result):
    print(f"Step {step_id} completed: {result}")

@monitor.on_step_failed  
def step_failed(step_id, error):
    print(f"Step {step_id} failed: {error}")

@monitor.on_workflow_completed
def workflow_completed(final_result):
    print(f"Workflow completed: {final_result}")
"""  # noqa: W291

MOCKS = {
    "cardiffnlp/twitter-roberta-base-sentiment-latest": {"response": "POSITIVE", "latency_ms": 50},
    "dbmdz/bert-large-cased-finetuned-conll03-english": {
        "response": "PRSM (ORG)",
        "latency_ms": 50,
    },
    "gpt-3.5-turbo": {"response": "A happy researcher praises PRSM.", "latency_ms": 100},
}


def configured(program: str, key: str, base_url: str) -> str:
    """The program with the real key and address: the only change the seed allows."""
    return program.replace(
        'prsm.Client(api_key="your-api-key")',
        f'prsm.Client(api_key="{key}", base_url="{base_url}")',
    )


def test_quick_start_creates_the_text_analysis_pipeline(
    alice_key: str, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {}

    exec(configured(QUICK_START, alice_key, base_url), namespace)

    out = capsys.readouterr().out
    assert re.fullmatch(r"Created workflow: wf_\w+\n", out), out
    workflow = namespace["workflow"]
    assert out == f"Created workflow: {workflow.id}\n"
    assert (workflow.name, workflow.status, workflow.step_count) == (
        "Text Analysis Pipeline",
        "created",
        3,
    )
    assert isinstance(workflow.estimated_cost, float)
    assert isinstance(workflow.estimated_duration, int)


def test_execute_workflow_prints_the_execution_id(
    alice_key: str, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {}
    exec(configured(QUICK_START, alice_key, base_url), namespace)
    capsys.readouterr()

    exec(EXECUTE, namespace)

    out = capsys.readouterr().out
    execution = namespace["execution"]
    assert out == f"Execution ID: {execution.id}\n"
    assert execution.id.startswith("exec_")
    assert execution.workflow_id == namespace["workflow"].id
    assert execution.status in {"queued", "running"}


def test_text_analysis_pipeline_runs_with_mocked_models(
    alice_key: str, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {}
    exec(configured(QUICK_START, alice_key, base_url), namespace)
    client: prsm.Client = namespace["client"]

    run = client.workflows.test(
        workflow_id=namespace["workflow"].id,
        test_inputs={"text": "I love using PRSM for AI research! It's revolutionary."},
        mock_models=MOCKS,
    ).wait(timeout=60)

    assert run.status == "completed", run.data
    assert run.is_test is True
    assert [s["id"] for s in run.steps] == ["sentiment", "entities", "summary"]
    assert step_of(run, "sentiment")["result"] == "POSITIVE"
    assert step_of(run, "summary")["model_used"] == "gpt-3.5-turbo"
    assert run.result is not None


def test_real_time_monitoring_prints_each_step_and_the_final_result(
    alice_key: str, base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, Any] = {}
    exec(configured(QUICK_START, alice_key, base_url), namespace)
    client: prsm.Client = namespace["client"]
    run = client.workflows.test(
        workflow_id=namespace["workflow"].id,
        test_inputs={"text": "I love using PRSM for AI research! It's revolutionary."},
        mock_models=MOCKS,
    )
    capsys.readouterr()

    exec(MONITORING.replace("exec_xyz789", run.id), namespace)
    namespace["monitor"].wait(timeout=60)

    detail = run.refresh()
    expected = [f"Step {s['id']} completed: {s['result']}" for s in detail.steps]
    expected.append(f"Workflow completed: {detail.result}")
    assert capsys.readouterr().out.splitlines() == expected


def test_seed_programs_as_one_script_end_by_themselves(alice_key: str, base_url: str) -> None:
    """Quick Start + Execute + Monitoring in a fresh interpreter, with no ``run()`` call.

    The models are the seed's (none is served here), so the first step fails: the
    script prints that and exits once the run has ended.
    """
    script = (
        configured(QUICK_START, alice_key, base_url)
        + EXECUTE
        + MONITORING.replace('"exec_xyz789"', "execution.id")
    )

    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"Created workflow: wf_\w+", lines[0])
    assert re.fullmatch(r"Execution ID: exec_\w+", lines[1])
    assert lines[2].startswith("Step sentiment failed: "), lines
    assert len(lines) == 3, lines
