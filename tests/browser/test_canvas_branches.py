"""Conditionals and loops drawn on the canvas, edited there, and shown in a run.

alice owns the workflows. The editor tests save through the real form and read the
saved definition from the database; the run tests use offline functions and a
built-in model with a real Celery worker.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_canvas import SCREENSHOTS, seed_pipeline
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, execute
from workflows.models import Workflow

TIMEOUT = 30_000  # ms: a run on a busy machine, not a speed assertion


def _create(owner: Any, definition: dict[str, Any]) -> str:
    response = client_for(owner).post("/api/v1/workflows", copy.deepcopy(definition), format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _open(page: Any, base_url_for: Any, user: Any, workflow_id: str) -> None:
    sign_in(page, base_url_for("").rstrip("/"), user)
    page.goto(base_url_for(f"/workflows/{workflow_id}/"))
    page.wait_for_selector("body[data-editor-ready='true'][data-editor-layout='done']")


def _node(page: Any, node_id: str) -> Any:
    return page.locator(f".react-flow__node[data-id='{node_id}']")


def _save(page: Any, note: str) -> dict[str, Any]:
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Change note").fill(note)
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved a new version").wait_for()
    workflow_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    return Workflow.objects.get(public_id=workflow_id).versions.latest("number").definition


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"]
        and inner["y"] >= outer["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


@pytest.fixture
def alice(make_user: Any) -> Any:
    return make_user("alice")


# --- the editor ---------------------------------------------------------------------


def test_a_conditional_is_drawn_with_labelled_true_and_false_branches(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    _open(page, base_url_for, alice, _create(alice, seed_pipeline()))
    group = _node(page, "route")
    expect(group.get_by_test_id("branch-label-if_true")).to_have_text("true")
    expect(group.get_by_test_id("branch-label-if_false")).to_have_text("false")
    for branch in ("if_true", "if_false"):
        card = _node(page, f"route.{branch}")
        expect(card).to_contain_text("gpt-3.5-turbo")
        assert _inside(card.bounding_box(), group.bounding_box())
        edge = page.locator(f".react-flow__edge[data-id='branch:route:{branch}']")
        expect(edge).to_have_count(1)
    # The two branches are told apart by colour as well as by label.
    true_stroke = page.locator(".react-flow__edge[data-id='branch:route:if_true'] path").first
    false_stroke = page.locator(".react-flow__edge[data-id='branch:route:if_false'] path").first
    assert true_stroke.evaluate("p => p.style.stroke") != false_stroke.evaluate(
        "p => p.style.stroke"
    )
    # Clicking a branch card edits its conditional.
    _node(page, "route.if_true").click()
    expect(page.get_by_test_id("step-panel")).to_be_visible()
    expect(page.locator("#step-id")).to_have_value("route")


BRANCH_EDIT: dict[str, Any] = {
    "name": "Route by sentiment",
    "input_schema": {"text": {"type": "string"}},
    "steps": [
        {
            "id": "sentiment",
            "type": "inference",
            "model": "builtin/sentiment-vader",
            "input": "${workflow.input.text}",
        },
        {
            "id": "route",
            "type": "conditional",
            "condition": "${sentiment.result.label} == 'POSITIVE'",
            "if_false": {"type": "data_processing", "function": "noop", "input": "not positive"},
            "depends_on": ["sentiment"],
        },
        {
            "id": "cheer",
            "type": "data_processing",
            "function": "clean_text",
            "input": "Positive: ${workflow.input.text}",
        },
        {
            "id": "report",
            "type": "aggregation",
            "inputs": {"cheer": "${cheer.result}"},
        },
    ],
    "ui": {
        "nodes": {
            "sentiment": {"x": 0, "y": 0},
            "route": {"x": 330, "y": 0},
            "cheer": {"x": 760, "y": 0},
            "report": {"x": 760, "y": 200},
        }
    },
}


def test_connecting_a_step_to_the_true_handle_makes_it_the_true_branch(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    _open(page, base_url_for, alice, _create(alice, BRANCH_EDIT))
    expect(page.get_by_test_id("slot-route-if_true")).to_be_visible()
    _node(page, "route").locator(".react-flow__handle[data-handleid='if_true']").drag_to(
        _node(page, "cheer").locator(".react-flow__handle.target")
    )
    card = _node(page, "route.if_true")
    expect(card).to_be_visible()
    expect(_node(page, "cheer")).to_have_count(0)
    expect(page.get_by_test_id("slot-route-if_true")).to_have_count(0)
    expect(_node(page, "route.if_false")).to_contain_text("noop")  # the other branch kept

    saved = _save(page, "Cheer when positive")
    steps = {s["id"]: s for s in saved["steps"]}
    assert "cheer" not in steps
    assert steps["route"]["if_true"] == {
        "type": "data_processing",
        "function": "clean_text",
        "input": "Positive: ${workflow.input.text}",
    }
    assert steps["route"]["if_false"] == BRANCH_EDIT["steps"][1]["if_false"]
    # What read the moved step's result now reads the conditional's.
    assert steps["report"]["inputs"] == {"cheer": "${route.result}"}
    assert "cheer" not in saved["ui"]["nodes"]

    page.get_by_role("button", name="Fit view").click()
    page.wait_for_timeout(400)
    page.get_by_test_id("editor").scroll_into_view_if_needed()
    page.get_by_test_id("editor").screenshot(path=str(SCREENSHOTS / "editor-conditional.png"))

    # Undo puts it back as a step of its own.
    page.keyboard.press("Control+z")
    expect(_node(page, "cheer")).to_be_visible()
    expect(_node(page, "route.if_true")).to_have_count(0)


def test_a_palette_step_dropped_on_a_branch_slot_fills_that_branch(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    _open(page, base_url_for, alice, _create(alice, BRANCH_EDIT))
    slot = page.get_by_test_id("slot-route-if_true")
    page.get_by_role("button", name="Add builtin/extractive-summary").drag_to(slot)
    expect(_node(page, "route.if_true")).to_contain_text("builtin/extractive-summary")
    saved = _save(page, "Summarise when positive")
    route = next(s for s in saved["steps"] if s["id"] == "route")
    assert route["if_true"] == {"type": "inference", "model": "builtin/extractive-summary"}
    assert route["if_false"] == BRANCH_EDIT["steps"][1]["if_false"]


LOOP_EDIT: dict[str, Any] = {
    "name": "Per document",
    "input_schema": {
        "docs": {"type": "array", "items": {"type": "string"}},
        "title": {"type": "string"},
    },
    "steps": [
        {
            "id": "each",
            "type": "loop",
            "iterate_over": "${workflow.input.docs}",
            "max_iterations": 25,
            "step": {
                "type": "inference",
                "model": "builtin/extractive-summary",
                "input": "${loop.current_item}",
            },
        },
        {
            "id": "tidy",
            "type": "data_processing",
            "function": "clean_text",
            "input": "${workflow.input.title}",
            "parameters": {"lowercase": True},
        },
    ],
    "ui": {"nodes": {"each": {"x": 0, "y": 0}, "tidy": {"x": 0, "y": 320}}},
}


def test_a_step_dragged_into_a_loop_group_becomes_its_body(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    _open(page, base_url_for, alice, _create(alice, LOOP_EDIT))
    loop = _node(page, "each")
    expect(loop.get_by_test_id("loop-count")).to_have_text("≤ 25 iterations")
    expect(_node(page, "each.step")).to_contain_text("builtin/extractive-summary")

    # Dragged by hand (small mouse steps) onto the loop's body.
    tidy = _node(page, "tidy").bounding_box()
    target = _node(page, "each.step").bounding_box()
    page.mouse.move(tidy["x"] + 100, tidy["y"] + 40)
    page.mouse.down()
    steps = 12
    for i in range(1, steps + 1):
        page.mouse.move(
            tidy["x"] + 100 + (target["x"] + 100 - tidy["x"] - 100) * i / steps,
            tidy["y"] + 40 + (target["y"] + 40 - tidy["y"] - 40) * i / steps,
        )
    page.mouse.up()

    body = _node(page, "each.step")
    expect(body).to_contain_text("clean_text")
    expect(_node(page, "tidy")).to_have_count(0)
    assert _inside(body.bounding_box(), loop.bounding_box())
    saved = _save(page, "Tidy each document")
    each = next(s for s in saved["steps"] if s["id"] == "each")
    assert each["step"] == {
        "type": "data_processing",
        "function": "clean_text",
        "input": "${workflow.input.title}",
        "parameters": {"lowercase": True},
    }
    assert [s["id"] for s in saved["steps"]] == ["each"]

    page.get_by_test_id("editor").scroll_into_view_if_needed()
    page.get_by_test_id("editor").screenshot(path=str(SCREENSHOTS / "editor-loop.png"))

    # Taken out again: a step of its own, the loop's slot empty.
    page.get_by_role("button", name="Detach the loop body of each").click()
    expect(page.get_by_test_id("slot-each-step")).to_be_visible()
    expect(page.locator(".react-flow__node[data-id='clean_text']")).to_be_visible()


# --- the run view -------------------------------------------------------------------

BRANCH_RUN: dict[str, Any] = {
    "name": "Branch on the text",
    "input_schema": {"text": {"type": "string"}},
    "steps": [
        {
            "id": "clean",
            "type": "data_processing",
            "function": "clean_text",
            "input": "${workflow.input.text}",
            "parameters": {"lowercase": True},
        },
        {
            "id": "route",
            "type": "conditional",
            "condition": "${clean.result} == 'hello'",
            "if_true": {"type": "data_processing", "function": "noop", "input": "greeted"},
            "if_false": {"type": "data_processing", "function": "noop", "input": "ignored"},
        },
    ],
}

LOOP_RUN: dict[str, Any] = {
    "name": "Summarise each",
    "input_schema": {"docs": {"type": "array", "items": {"type": "string"}}},
    "steps": [
        {
            "id": "each",
            "type": "loop",
            "iterate_over": "${workflow.input.docs}",
            "parallel": True,
            "max_iterations": 10,
            "step": {
                "type": "inference",
                "model": "builtin/extractive-summary",
                "input": "${loop.current_item}",
            },
        },
    ],
}


def test_the_run_view_highlights_the_branch_taken_and_dims_the_other(
    page: Any, live_app: Any, base_url_for: Any, alice: Any
) -> None:
    workflow_id = create_workflow(alice, BRANCH_RUN)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    execution_id = execute(alice, workflow_id, inputs={"text": "  Hello "})
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))

    route = page.locator('[data-step-id="route"]')
    expect(route).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    taken = page.locator('[data-branch-edge="route.if_true"]')
    skipped = page.locator('[data-branch-edge="route.if_false"]')
    expect(taken).to_have_attribute("data-branch-state", "taken")
    expect(skipped).to_have_attribute("data-branch-state", "not-taken")
    expect(page.locator('[data-branch-key="route.if_true"]')).to_have_attribute(
        "data-status", "completed"
    )
    no = page.locator('[data-branch-key="route.if_false"]')
    expect(no).to_have_attribute("data-branch-state", "not-taken")
    expect(no).to_contain_text("Not taken")
    expect(route).to_contain_text("Took the true branch")
    # The taken edge is drawn bolder than the skipped one.
    width = "g => parseFloat(g.querySelector('path').style.strokeWidth)"
    assert taken.evaluate(width) > skipped.evaluate(width)

    route.get_by_role("button").click()
    expect(page.get_by_test_id("step-panel")).to_contain_text("if_true")
    page.get_by_test_id("run-canvas").screenshot(path=str(SCREENSHOTS / "run-conditional.png"))


def test_the_run_view_shows_each_iteration_of_a_loop(
    page: Any, live_app: Any, base_url_for: Any, alice: Any
) -> None:
    workflow_id = create_workflow(alice, LOOP_RUN)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    docs = [f"Document {i} is short. It has two sentences." for i in range(4)]
    execution_id = execute(alice, workflow_id, inputs={"docs": docs})
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))

    loop = page.locator('[data-step-id="each"]')
    expect(loop).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    squares = loop.get_by_test_id("node-iterations").locator("li")
    expect(squares).to_have_count(4)
    expect(
        loop.get_by_test_id("node-iterations").locator('li[data-status="completed"]')
    ).to_have_count(4)
    expect(loop).to_contain_text("at most 10")

    loop.get_by_role("button").click()
    panel = page.get_by_test_id("step-panel")
    rows = panel.get_by_test_id("iteration-list").locator("tbody tr")
    expect(rows).to_have_count(4)
    for i in range(4):
        row = panel.get_by_test_id("iteration-list").locator(f'tr[data-iteration="{i}"]')
        expect(row).to_have_attribute("data-status", "completed")
        expect(row).to_contain_text("builtin/extractive-summary")
    # Not "Model used —" and not an input of null: what its iterations used and
    # what it iterates over.
    expect(panel).to_contain_text("Models its steps used")
    expect(panel).not_to_contain_text("Model used—")
    expect(panel.get_by_label("Input as defined", exact=True)).to_contain_text("iterate_over")
    page.screenshot(path=str(SCREENSHOTS / "run-loop.png"))
