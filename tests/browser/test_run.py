"""Running a workflow from the browser and watching it live.

Real Daphne (pages, API, websocket), a real Celery worker running the steps and real
Chromium. alice owns the workflows; bob may only read one. The workflows use
offline functions (``clean_text``, ``sleep``) and a built-in model, so they run
without a network; ``sleep`` keeps a step running long enough to watch it.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from executions.models import ExecutionEvent
from tests.browser.conftest import sign_in
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, execute

# Records every data-status each run node shows, from the first paint on, so a test
# can tell that a node *was* running before it completed.
STATUS_RECORDER = """
window.__statusHistory = {};
const record = (el) => {
  const id = el.getAttribute("data-step-id");
  const status = el.getAttribute("data-status");
  if (!id || !status) return;
  const seen = (window.__statusHistory[id] ??= []);
  if (seen[seen.length - 1] !== status) seen.push(status);
};
new MutationObserver((mutations) => {
  for (const m of mutations) {
    if (m.type === "attributes") record(m.target);
    for (const node of m.addedNodes) {
      if (node.nodeType !== 1) continue;
      if (node.matches("[data-step-id]")) record(node);
      node.querySelectorAll("[data-step-id]").forEach(record);
    }
  }
  if (document.querySelector('[data-testid="reconnecting"]')) window.__sawReconnecting = true;
}).observe(document, {
  subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"],
});
"""

LIVE_DEFINITION: dict[str, Any] = {
    "name": "Clean and summarise",
    "input_schema": {
        "text": {"type": "string", "description": "The text to clean and summarise."},
        "api_key": {"type": "secret", "required": False},
    },
    "steps": [
        {
            "id": "clean",
            "type": "data_processing",
            "function": "clean_text",
            "input": "${workflow.input.text}",
            "parameters": {"lowercase": True},
        },
        {
            "id": "pause",
            "type": "data_processing",
            "function": "sleep",
            "input": "${clean.result}",
            "parameters": {"seconds": 4},
        },
        {
            "id": "summary",
            "type": "inference",
            "model": "builtin/extractive-summary",
            "input": "${pause.result}",
        },
    ],
}

HANGING_DEFINITION: dict[str, Any] = {
    "name": "Slow",
    "steps": [
        {
            "id": "hang",
            "type": "data_processing",
            "function": "sleep",
            "input": "x",
            "parameters": {"seconds": 8},
        },
        {"id": "after", "type": "data_processing", "function": "noop", "input": "${hang.result}"},
    ],
}

CHAIN_DEFINITION: dict[str, Any] = {
    "name": "Chain",
    "steps": [
        {
            "id": f"s{i}",
            "type": "data_processing",
            "function": "sleep",
            "input": i,
            "parameters": {"seconds": 2},
            **({"depends_on": [f"s{i - 1}"]} if i else {}),
        }
        for i in range(4)
    ],
}

LOOP_DEFINITION: dict[str, Any] = {
    "name": "Per document",
    "input_schema": {"docs": {"type": "array", "items": {"type": "string"}}},
    "steps": [
        {
            "id": "each",
            "type": "loop",
            "iterate_over": "${workflow.input.docs}",
            "parallel": True,
            "step": {
                "type": "data_processing",
                "function": "sleep",
                "input": "${loop.current_item}",
                "parameters": {"seconds": 0.5},
            },
        },
        {"id": "merge", "type": "aggregation", "inputs": {"all": "${each.result}"}},
    ],
}

FAILING_DEFINITION: dict[str, Any] = {
    "name": "Flaky instrument",
    "steps": [
        {"id": "prepare", "type": "data_processing", "function": "clean_text", "input": "a  b"},
        {
            "id": "measure",
            "type": "data_processing",
            "function": "fail",
            "input": "${prepare.result}",
            "parameters": {"message": "the instrument is offline"},
        },
    ],
}

# Two independent slow steps and a step that joins them: with one parallel slot, one
# runs while the other waits for the slot, and the join waits for both.
SLOT_DEFINITION: dict[str, Any] = {
    "name": "One slot",
    "steps": [
        *(
            {
                "id": step_id,
                "type": "data_processing",
                "function": "sleep",
                "input": step_id,
                "parameters": {"seconds": 5},
            }
            for step_id in ("alpha", "beta")
        ),
        {
            "id": "join",
            "type": "aggregation",
            "inputs": {"a": "${alpha.result}", "b": "${beta.result}"},
        },
    ],
}

TIMEOUT = 30_000  # ms: a run on a busy machine, not a speed assertion


def _node(page: Any, step_id: str) -> Any:
    return page.locator(f'[data-step-id="{step_id}"]')


def test_owner_runs_a_workflow_from_the_dialog_and_watches_it_live(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, LIVE_DEFINITION)
    page.add_init_script(STATUS_RECORDER)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/"))

    # Given the Run dialog, generated from the workflow's input_schema
    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog", name="Run Clean and summarise")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("api_key")).to_have_attribute("type", "password")
    expect(dialog.get_by_label("Priority")).to_have_value("normal")

    # A required input left empty is refused in the form.
    dialog.get_by_role("button", name="Start run").click()
    expect(dialog.get_by_text("must have required property")).to_be_visible()

    # When alice fills it in and starts the run
    dialog.get_by_label("text").fill("  Live   Updates  ARE   Neat. ")
    dialog.get_by_label("api_key").fill("sk-not-a-real-key")
    dialog.get_by_label("Priority").select_option("high")
    dialog.get_by_label("Max parallel steps").fill("4")
    dialog.get_by_role("button", name="Start run").click()

    # Then she lands on the run page and sees the nodes change live
    page.wait_for_url(re.compile(rf"/workflows/{workflow_id}/runs/exec_[A-Za-z0-9_]+/$"))
    expect(page.locator("body")).to_have_attribute("data-run-ready", "true", timeout=TIMEOUT)
    expect(_node(page, "summary")).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    for step_id in ("clean", "pause"):
        expect(_node(page, step_id)).to_have_attribute("data-status", "completed")
    # It was seen waiting or running before it completed (the 4 s pause is watched live).
    history = page.evaluate("window.__statusHistory")
    for step_id in ("pause", "summary"):
        assert history[step_id][-1] == "completed", history
    assert {"queued", "running"} & set(history["pause"][:-1] + history["summary"][:-1]), history

    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "completed")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("final-result")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("gantt")).to_have_attribute("data-bars", "3", timeout=TIMEOUT)

    # Clicking a node shows its result in the side panel
    page.get_by_role("button", name=re.compile(r"^clean: Completed")).click()
    panel = page.get_by_test_id("step-panel")
    expect(panel.get_by_role("heading", name="clean")).to_be_visible()
    expect(panel.get_by_test_id("step-result")).to_contain_text(
        "live updates are neat.", timeout=TIMEOUT
    )
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)

    # The run was started with the chosen config, and the secret never reached the page.
    execution_id = page.url.rstrip("/").rsplit("/", 1)[1]
    body = (
        client_for(alice).get(f"/api/v1/workflows/{workflow_id}/executions/{execution_id}").json()
    )
    assert body["config"]["priority"] == "high"
    assert body["config"]["max_parallel_steps"] == 4
    page.get_by_text("Inputs and settings").click()
    inputs = page.get_by_test_id("run-inputs")
    expect(inputs).to_contain_text("live   updates", ignore_case=True)
    expect(inputs).to_contain_text("redacted")
    assert "sk-not-a-real-key" not in page.content()


def test_dropped_connection_resumes_without_a_gap_or_a_reload(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, CHAIN_DEFINITION)
    page.add_init_script(STATUS_RECORDER)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    execution_id = execute(alice, workflow_id)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))
    expect(page.locator("body")).to_have_attribute("data-run-ready", "true", timeout=TIMEOUT)
    page.evaluate("window.__samePage = true")
    seen = int(page.get_by_test_id("run-seq").get_attribute("data-last-seq"))
    assert page.get_by_test_id("run-status").get_attribute("data-status") == "running"

    # When the connection drops mid-run (as a network failure would drop it)
    page.evaluate("window.__prsmRunDropConnection()")

    # Then the page says so, reconnects by itself and misses nothing
    expect(_node(page, "s3")).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "completed")
    assert page.evaluate("window.__sawReconnecting === true")
    assert page.evaluate("window.__samePage === true")
    last_seq = ExecutionEvent.objects.filter(execution__public_id=execution_id).count()
    # (the header's workflow socket stays open throughout; only the run's reconnects)
    sockets = [url for url in sockets if "/ws/executions/" in url]
    assert len(sockets) == 2, sockets
    assert "after=" not in sockets[0]
    after = int(re.search(r"[?&]after=(\d+)", sockets[1]).group(1))  # type: ignore[union-attr]
    assert last_seq > after >= seen > 0, (last_seq, after, seen)
    expect(page.get_by_test_id("run-seq")).to_have_attribute("data-last-seq", str(last_seq))
    history = page.evaluate("window.__statusHistory")
    for i in range(4):
        assert history[f"s{i}"][-1] == "completed", history
        assert history[f"s{i}"].count("completed") == 1, history


def test_the_run_dialog_keeps_focus_inside_and_closes_with_escape(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, LIVE_DEFINITION)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/"))
    run = page.get_by_role("button", name="Run", exact=True)
    run.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("text")).to_be_focused()
    # Focus stays inside: backwards past the first control wraps to the last.
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Start run")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(run).to_be_focused()


def test_owner_cancels_a_running_execution(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, HANGING_DEFINITION)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    execution_id = execute(alice, workflow_id)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))
    expect(_node(page, "hang")).to_have_attribute("data-status", "running", timeout=TIMEOUT)

    page.get_by_role("button", name="Cancel run").click()
    confirm = page.get_by_role("dialog", name="Cancel this run?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Cancel run").click()

    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "cancelled", timeout=TIMEOUT
    )
    expect(_node(page, "hang")).to_have_attribute("data-status", "cancelled")
    expect(_node(page, "after")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    expect(page.get_by_role("button", name="Resume")).to_be_visible()


def test_read_only_member_sees_no_run_button(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    workflow_id = create_workflow(alice, HANGING_DEFINITION)
    granted = client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/permissions", {"read": ["bob"]}, format="json"
    )
    assert granted.status_code == 200, granted.content
    sign_in(page, base_url_for("").rstrip("/"), bob)
    execution_id = execute(alice, workflow_id)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))
    expect(page.locator("body")).to_have_attribute("data-run-ready", "true", timeout=TIMEOUT)
    expect(page.get_by_test_id("run-disabled")).to_be_visible()
    expect(page.get_by_role("button", name="Run", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    # bob still watches the run live.
    expect(_node(page, "hang")).to_have_attribute("data-status", "running", timeout=TIMEOUT)


def test_a_loop_shows_its_iterations_as_a_summary_on_one_node(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, LOOP_DEFINITION)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    execution_id = execute(alice, workflow_id, inputs={"docs": [f"doc {i}" for i in range(6)]})
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))

    loop = _node(page, "each")
    expect(page.locator("[data-step-id]")).to_have_count(2)  # not one node per iteration
    expect(loop).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    expect(loop.locator('[data-count="done"]')).to_have_text("6/6 done")
    expect(_node(page, "merge")).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    loop.get_by_role("button").click()
    panel = page.get_by_test_id("step-panel")
    expect(panel).to_contain_text("6 of 6 done")
    expect(panel.get_by_test_id("iterations").locator('li[data-status="completed"]')).to_have_count(
        6
    )


def test_a_failed_run_shows_the_error_and_resumes_from_the_failure(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, FAILING_DEFINITION)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    execution_id = execute(alice, workflow_id)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))

    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "failed", timeout=TIMEOUT
    )
    expect(_node(page, "measure")).to_have_attribute("data-status", "failed")
    expect(page.get_by_test_id("run-outcome")).to_contain_text("the instrument is offline")
    _node(page, "measure").get_by_role("button").click()
    expect(page.get_by_test_id("step-panel").get_by_role("alert")).to_contain_text(
        "the instrument is offline"
    )

    page.get_by_role("button", name="Resume from failure").click()
    page.wait_for_url(lambda url: "/runs/exec_" in url and execution_id not in url)
    expect(page.get_by_role("link", name=execution_id)).to_be_visible(timeout=TIMEOUT)
    # The step that had completed is reused; the failing one runs (and fails) again.
    expect(_node(page, "prepare")).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    expect(_node(page, "measure")).to_have_attribute("data-status", "failed", timeout=TIMEOUT)


def test_a_refused_run_shows_the_api_error_in_the_dialog(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, HANGING_DEFINITION)
    capped = client_for(alice).patch(
        f"/api/v1/workflows/{workflow_id}", {"monthly_budget": 0}, format="json"
    )
    assert capped.status_code == 200, capped.content
    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/"))

    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Start run").click()

    expect(dialog.get_by_role("alert")).to_contain_text(re.compile("budget", re.I))
    expect(dialog.get_by_role("button", name="Start run")).to_be_enabled()
    assert page.url.endswith(f"/workflows/{workflow_id}/runs/")


def test_waiting_steps_say_why_on_the_node_and_in_the_step_panel(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, SLOT_DEFINITION)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    # Given a run with one parallel slot and two steps that could run at once
    execution_id = execute(alice, workflow_id, execution_config={"max_parallel_steps": 1})
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))
    expect(page.locator("body")).to_have_attribute("data-run-ready", "true", timeout=TIMEOUT)

    # When one of them runs
    running = page.locator('[data-step-id][data-status="running"]')
    expect(running).to_have_count(1, timeout=TIMEOUT)
    first = running.get_attribute("data-step-id")
    second = "beta" if first == "alpha" else "alpha"
    assert first in ("alpha", "beta"), first

    # Then the other's node says it waits for the slot (the whole message in its tooltip)
    slot = "Waiting for a parallel slot (1 of 1 in use)"
    line = _node(page, second).locator("[data-waiting]")
    expect(line).to_have_text(slot)
    expect(line).to_have_attribute("title", slot)
    # and the join's node names the steps it waits for.
    join_line = _node(page, "join").locator("[data-waiting]")
    expect(join_line).to_have_text("Waiting for alpha, beta")
    expect(_node(page, first).locator("[data-waiting]")).to_have_count(0)

    # The step panel says it in full, with the details.
    _node(page, second).get_by_role("button").click()
    panel = page.get_by_test_id("step-panel")
    waiting = panel.get_by_test_id("step-waiting")
    expect(waiting).to_have_attribute("data-reason", "slot")
    expect(waiting.get_by_test_id("step-waiting-message")).to_have_text(slot)
    expect(waiting).to_contain_text("Parallel slots in use")
    expect(waiting).to_contain_text("1 of 1")

    # The join's panel lists the steps it waits for; each link shows that step.
    _node(page, "join").get_by_role("button").click()
    expect(panel.get_by_test_id("step-waiting-message")).to_have_text("Waiting for alpha, beta")
    links = panel.locator("[data-step-link]")
    expect(links).to_have_count(2)
    # When the first step finishes, the join waits for the other one only (no event
    # for the join: the page works it out from the statuses it has).
    expect(_node(page, first)).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    expect(join_line).to_have_text(f"Waiting for {second}", timeout=TIMEOUT)
    expect(panel.get_by_test_id("step-waiting-message")).to_have_text(f"Waiting for {second}")
    expect(links).to_have_count(1)
    links.first.click()
    expect(panel.get_by_role("heading", name=second)).to_be_visible()

    # Once everything ran, nothing says it waits.
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "completed", timeout=TIMEOUT
    )
    expect(page.locator("[data-waiting]")).to_have_count(0)
    expect(panel.get_by_test_id("step-waiting")).to_have_count(0)
