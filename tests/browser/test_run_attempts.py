"""Each attempt of a retried step on the run page, a step whose result is empty, and
templates run with their sample inputs from the Run dialog and the gallery.

Real Daphne, a real Celery worker and real Chromium. The retried step's model is a
test run's mock (``POST /test`` with ``fail_times``), which fails twice with a rate
limit before it answers; the empty step is a relevance filter that keeps nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, execute, wait_terminal
from workflows.builtin import builtin_templates_load
from workflows.models import Template

TIMEOUT = 30_000  # ms: a run on a busy machine, not a speed assertion
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "run-attempts.png"

RETRIED: dict[str, Any] = {
    "name": "Retried summary",
    "steps": [
        {"id": "clean", "type": "data_processing", "function": "clean_text", "input": "Hi"},
        {
            "id": "summarize",
            "type": "inference",
            "model": "gpt-4",
            "input": "Summarize: ${clean.result}",
            "depends_on": ["clean"],
        },
    ],
    "error_handling": {
        "retry_policy": {
            "max_retries": 3,
            "retry_delay_seconds": 1,
            "backoff_multiplier": 2.0,
            "retry_on_errors": ["rate_limit"],
        }
    },
}

EMPTY: dict[str, Any] = {
    "name": "Strict filter",
    "steps": [
        {
            "id": "filter_papers",
            "type": "data_processing",
            "function": "relevance_filter",
            "input": ["A paper on bees", "Cooking pasta", "Notes on trains"],
            "parameters": {"query": "protein folding", "min_relevance": 0.8},
        },
        {
            "id": "report",
            "type": "data_processing",
            "function": "clean_text",
            "input": "Report: nothing relevant found.",
            "depends_on": ["filter_papers"],
        },
    ],
}

# The same filter, then a step that runs until the test cancels it: the badge must come
# from the live event, while the run is still going.
EMPTY_THEN_HANG: dict[str, Any] = {
    "name": "Strict filter, then a long wait",
    "steps": [
        EMPTY["steps"][0],
        {
            "id": "hang",
            "type": "data_processing",
            "function": "sleep",
            "input": "x",
            "parameters": {"seconds": 60},
            "depends_on": ["filter_papers"],
        },
    ],
}


def test_a_retried_step_shows_each_attempt_in_the_panel_and_on_the_timeline(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, RETRIED)
    mocks = {
        "gpt-4": {
            "response": "A short summary.",
            "error": "rate_limit",
            "error_message": "Rate limit reached for gpt-4",
            "fail_times": 2,
        }
    }
    response = client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/test", {"mock_models": mocks}, format="json"
    )
    assert response.status_code == 201, response.content
    execution_id = response.json()["execution_id"]
    page.set_viewport_size({"width": 1280, "height": 1000})
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))

    node = page.locator('[data-step-id="summarize"]')
    expect(node).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    node.get_by_role("button").click()

    attempts = page.get_by_test_id("step-panel").get_by_test_id("attempt")
    expect(attempts).to_have_count(3, timeout=TIMEOUT)
    expect(attempts.nth(0)).to_have_attribute("data-status", "failed")
    expect(attempts.nth(0)).to_contain_text("gpt-4")
    expect(attempts.nth(0)).to_contain_text("rate_limit: Rate limit reached for gpt-4")
    expect(attempts.nth(0)).to_contain_text("Waited 1.0 s before attempt 2")
    expect(attempts.nth(1)).to_contain_text("Waited 2.0 s before attempt 3")
    expect(attempts.nth(2)).to_have_attribute("data-status", "succeeded")
    # clean's one bar, then summarize's three attempts with the two waits between them
    gantt = page.get_by_test_id("gantt")
    expect(gantt).to_have_attribute("data-bars", "4", timeout=TIMEOUT)
    expect(gantt).to_have_attribute("data-failed-bars", "2")
    expect(gantt).to_have_attribute("data-waits", "2")

    attempts.nth(0).evaluate("el => el.scrollIntoView({block: 'start'})")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_a_step_with_an_empty_result_is_flagged_on_its_node_with_the_reason(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, EMPTY)
    execution_id = execute(alice, workflow_id)
    assert wait_terminal(execution_id).status == "completed"
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))

    badge = page.locator('[data-step-id="filter_papers"]').get_by_test_id("empty-result")
    expect(badge).to_have_text("⚠0 of 3 papers kept: relevance below 0.8", timeout=TIMEOUT)
    expect(page.locator('[data-step-id="report"]').get_by_test_id("empty-result")).to_have_count(0)
    # what the badge says is in the node's accessible name too
    expect(
        page.get_by_role("button", name=re.compile(r"Warning: 0 of 3 papers kept"))
    ).to_be_visible()


def test_the_run_dialog_fills_in_a_templates_sample_inputs_and_the_run_completes(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    builtin_templates_load()
    alice = make_user("alice")
    template = Template.objects.get(slug="text-analysis")
    created = client_for(alice).post(
        f"/api/v1/templates/{template.public_id}/instantiate", {}, format="json"
    )
    workflow_id = created.json()["id"]
    sample = template.extras["sample_inputs"]["text"]
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/"))

    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("text")).to_have_value("")
    dialog.get_by_role("button", name="Use sample inputs").click()
    expect(dialog.get_by_label("text")).to_have_value(sample)
    expect(dialog).to_contain_text("Filled in with the sample inputs.")
    dialog.get_by_role("button", name="Start run").click()

    page.wait_for_url(re.compile(rf"/workflows/{workflow_id}/runs/exec_[A-Za-z0-9_]+/$"))
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "completed", timeout=TIMEOUT
    )
    expect(page.get_by_test_id("empty-result")).to_have_count(0)


def test_the_gallery_runs_a_template_with_its_sample_inputs(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    builtin_templates_load()
    alice = make_user("alice")
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for("/templates/"))

    page.get_by_role("button", name=re.compile("^Literature Review")).click()
    detail = page.get_by_role("region", name="Literature Review and Analysis")
    expect(detail.get_by_test_id("sample-inputs")).to_contain_text("graph neural networks")
    detail.get_by_role("button", name="Create and run with sample inputs").click()

    page.wait_for_url(re.compile(r"/workflows/wf_[A-Za-z0-9_]+/runs/exec_[A-Za-z0-9_]+/$"))
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "completed", timeout=TIMEOUT
    )
    expect(page.locator('[data-step-id="generate_summary"]')).to_have_attribute(
        "data-status", "completed"
    )
    expect(page.get_by_test_id("empty-result")).to_have_count(0)


def test_the_empty_result_badge_appears_live_while_the_run_goes_on(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, EMPTY_THEN_HANG)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    execution_id = execute(alice, workflow_id)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))

    badge = page.locator('[data-step-id="filter_papers"]').get_by_test_id("empty-result")
    expect(badge).to_contain_text("0 of 3 papers kept", timeout=TIMEOUT)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "running")

    response = client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/executions/{execution_id}/cancel"
    )
    assert response.status_code == 200, response.content
