"""``python -m prsm`` as a child process, configured by PRSM_API_KEY / PRSM_BASE_URL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import prsm
from tests.sdk.conftest import FAILING, run_cli, sleep_chain, slot_and_join

WF_YAML = """\
name: CLI pipeline
description: made from YAML
steps:
  - id: clean
    type: data_processing
    function: clean_text
    input: ${workflow.input.text}
  - id: summary
    type: inference
    model: builtin/extractive-summary
    input: ${clean.result}
    depends_on: [clean]
"""


def create(client: prsm.Client, definition: dict[str, Any]) -> prsm.Workflow:
    data = json.loads(json.dumps(definition))
    return client.workflows.create(data.pop("name"), **data)


def test_workflows_create_list_get_export(alice_key: str, base_url: str, tmp_path: Path) -> None:
    path = tmp_path / "wf.yaml"
    path.write_text(WF_YAML)

    created = run_cli(
        "workflows", "create", "-f", str(path), "--json", key=alice_key, base_url=base_url
    )
    assert created.returncode == 0, created.stderr
    workflow_id = json.loads(created.stdout)["id"]

    listed = run_cli("workflows", "list", key=alice_key, base_url=base_url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:3] == ["ID", "NAME", "STATUS"]
    assert workflow_id in listed.stdout

    got = run_cli("workflows", "get", workflow_id, key=alice_key, base_url=base_url)
    assert f"id: {workflow_id}" in got.stdout
    assert "steps: clean, summary" in got.stdout

    exported = run_cli(
        "workflows", "export", workflow_id, "--format", "yaml", key=alice_key, base_url=base_url
    )
    assert exported.returncode == 0, exported.stderr
    assert "name: CLI pipeline" in exported.stdout
    assert "builtin/extractive-summary" in exported.stdout


def test_workflows_validate_exits_1_on_an_invalid_file(
    alice_key: str, base_url: str, tmp_path: Path
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(WF_YAML)
    bad = tmp_path / "bad.json"
    step = {"id": "a", "type": "inference", "model": "m", "input": "x", "depends_on": ["a"]}
    bad.write_text(json.dumps({"name": "Bad", "steps": [step]}))

    ok = run_cli("workflows", "validate", "-f", str(good), key=alice_key, base_url=base_url)
    ko = run_cli("workflows", "validate", "-f", str(bad), key=alice_key, base_url=base_url)

    assert (ok.returncode, ok.stdout.splitlines()[0]) == (0, "valid")
    assert ko.returncode == 1
    assert ko.stdout.splitlines()[0] == "invalid"
    assert "error: steps[0].depends_on" in ko.stdout


def test_run_watch_exits_0_when_the_run_completes(
    client: prsm.Client, alice_key: str, base_url: str
) -> None:
    workflow = create(client, sleep_chain(seconds=0.2, count=2))

    done = run_cli(
        "run", workflow.id, "--input", "text=hello", "--watch", key=alice_key, base_url=base_url
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.endswith("step.completed s1") for line in lines), lines
    assert any("execution.completed" in line for line in lines)
    assert lines[-2].endswith(" completed")
    assert lines[-1] == "result: hello"


def test_run_watch_says_why_each_open_step_waits(
    client: prsm.Client, alice_key: str, base_url: str
) -> None:
    workflow = create(client, slot_and_join(seconds=3))

    done = run_cli(
        "run", workflow.id, "--max-parallel", "1", "--watch", key=alice_key, base_url=base_url
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # The join waits for both, then (no event for it) for the one still running.
    assert "      c pending: Waiting for a, b" in lines, lines
    first = next(line.split()[-1] for line in lines if re.search(r"step\.completed [ab]$", line))
    second = "b" if first == "a" else "a"
    assert f"      c pending: Waiting for {second}" in lines, lines
    # One of a and b waited for the slot; event lines carry the reason they came with.
    assert "Waiting for a parallel slot (1 of 1 in use)" in done.stdout, lines
    assert any(re.search(r"step\.queued [abc] — Queued on queue \S+", line) for line in lines)
    assert lines[-2].endswith(" completed")


def test_run_watch_exits_1_when_the_run_fails(
    client: prsm.Client, alice_key: str, base_url: str
) -> None:
    workflow = create(client, FAILING)

    done = run_cli("run", workflow.id, "--watch", key=alice_key, base_url=base_url)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "step.failed boom execution_error: failed on purpose" in done.stdout
    assert "execution.failed" in done.stdout


def test_run_without_watch_then_executions_get_and_cancel(
    client: prsm.Client, alice_key: str, base_url: str
) -> None:
    workflow = create(client, sleep_chain(seconds=5, count=2))

    started = run_cli(
        "run", workflow.id, "-i", "text=x", "--json", key=alice_key, base_url=base_url
    )
    assert started.returncode == 0, started.stderr
    execution_id = json.loads(started.stdout)["execution_id"]

    got = run_cli("executions", "get", workflow.id, execution_id, key=alice_key, base_url=base_url)
    assert got.returncode == 0, got.stderr
    assert f"execution_id: {execution_id}" in got.stdout
    header, *rows = got.stdout.split("\n\n", 1)[1].splitlines()
    assert header.split()[-1] == "WAITING"
    # (s1 waits for s0, whether s0 is still queued or already running)
    assert any(row.split()[:2] == ["s1", "pending"] for row in rows), rows
    assert any(row.endswith("Waiting for s0") for row in rows), rows

    cancelled = run_cli(
        "executions",
        "cancel",
        workflow.id,
        execution_id,
        "--json",
        key=alice_key,
        base_url=base_url,
    )
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] == "cancelled"

    again = run_cli(
        "executions", "cancel", workflow.id, execution_id, key=alice_key, base_url=base_url
    )
    assert again.returncode == 1
    assert "ConflictError" in again.stderr


def test_bad_key_exits_1_with_a_message(base_url: str) -> None:
    done = run_cli("workflows", "list", key="prsm_nope", base_url=base_url)

    assert done.returncode == 1
    assert "AuthenticationError" in done.stderr


def test_executions_get_prints_each_attempt_of_a_retried_step(
    client: prsm.Client, alice_key: str, base_url: str
) -> None:
    workflow = create(
        client,
        {
            "name": "retried",
            "steps": [{"id": "ask", "type": "inference", "model": "m1", "input": "hi"}],
            "error_handling": {
                "retry_policy": {
                    "max_retries": 3,
                    "retry_delay_seconds": 0.5,
                    "backoff_multiplier": 2.0,
                    "retry_on_errors": ["rate_limit"],
                }
            },
        },
    )
    mocks = {"m1": {"response": "ok", "error": "rate_limit", "fail_times": 2}}
    execution = client.workflows.test(workflow.id, mock_models=mocks).wait(timeout=60)
    assert execution.status == "completed"

    got = run_cli("executions", "get", workflow.id, execution.id, key=alice_key, base_url=base_url)

    assert got.returncode == 0, got.stderr
    lines = got.stdout.split("attempts of ask:\n", 1)[1].splitlines()
    assert [line.split()[:3] for line in lines[:3]] == [
        ["#1", "m1", "failed"],
        ["#2", "m1", "failed"],
        ["#3", "m1", "succeeded"],
    ]
    assert "rate_limit:" in lines[0] and lines[0].endswith("(then waited 0.5 s)")
    assert lines[1].endswith("(then waited 1 s)")
    assert re.search(r"#3 m1 succeeded after [\d.]+ s$", lines[2]), lines[2]
