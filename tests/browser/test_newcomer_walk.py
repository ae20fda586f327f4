"""A newcomer's first ten minutes, at two laptop sizes, through the UI only.

Sign in; run a gallery template with its sample inputs and watch it finish live;
open Versions; build the seed's Text Analysis Pipeline with a conditional and a
loop by dragging from the palette, save it and run it; share it read-only with a
second user, who then cannot run it. Only the two users are made by the test.
Real Daphne, a real Celery worker and real Chromium; pytest-playwright keeps a
screenshot of a failing size under ``test-results/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_canvas import SIZES
from workflows.builtin import builtin_templates_load
from workflows.models import Workflow

TIMEOUT = 30_000  # ms: a run on a busy machine, not a speed assertion
TEXT = "Marie Curie won the Nobel Prize. She worked in Paris with Pierre Curie. It was a joy."
RUN_PAGE = r"/workflows/wf_[A-Za-z0-9_]+/runs/exec_[A-Za-z0-9_]+/$"


def _node(page: Any, node_id: str) -> Any:
    return page.locator(f".react-flow__node[data-id='{node_id}']")


def _drag(page: Any, item: str, target: Any) -> None:
    """Drag a palette item onto ``target``, the view fitted first to clear the panels."""
    page.get_by_role("button", name="Fit view").click()
    _settled(target)  # the view may still be moving to its fit
    page.get_by_role("button", name=f"Add {item}").drag_to(target)


def _settled(target: Any) -> None:
    """Until ``target`` stays in one place for 150 ms (bounded: 5 s)."""
    target.wait_for(state="visible", timeout=TIMEOUT)
    last = target.bounding_box()
    for _ in range(50):
        target.page.wait_for_timeout(150)
        now = target.bounding_box()
        if now == last:
            return
        last = now


def _drag_step(page: Any, item: str, step_id: str, target: Any) -> None:
    """Drag a palette item onto ``target``, then name the new (selected) step."""
    _drag(page, item, target)
    expect(page.get_by_test_id("step-panel")).to_be_visible(timeout=TIMEOUT)
    page.locator("#step-id").fill(step_id)
    page.locator("#step-id").press("Enter")
    expect(_node(page, step_id)).to_be_visible(timeout=TIMEOUT)


def _insert(page: Any, field: str, reference: str) -> None:
    page.get_by_label(f"Insert reference into {field}").select_option(reference)


def _expect_live_completion(page: Any) -> None:
    """The run page reaches "completed" by its websocket: the page is never reloaded."""
    page.wait_for_url(re.compile(RUN_PAGE))
    page.evaluate("() => { window.__sameDocument = true; }")
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "completed", timeout=TIMEOUT
    )
    assert page.evaluate("() => window.__sameDocument === true"), "the run page was reloaded"


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_newcomer_walks_the_first_ten_minutes(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any, width: int, height: int
) -> None:
    builtin_templates_load()
    alice = make_user("alice")
    bob = make_user("bob")
    base = base_url_for("").rstrip("/")
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, base, alice)

    # A template from the gallery, run with its sample inputs, finishing live.
    page.goto(f"{base}/templates/")
    page.get_by_role("button", name=re.compile("^Literature Review")).click()
    detail = page.get_by_role("region", name="Literature Review and Analysis")
    expect(detail.get_by_test_id("sample-inputs")).to_contain_text("graph neural networks")
    detail.get_by_role("button", name="Create and run with sample inputs").click()
    _expect_live_completion(page)
    expect(page.locator('[data-step-id="generate_summary"]')).to_have_attribute(
        "data-status", "completed"
    )

    # Its Versions tab: the HTML page, not the API.
    tabs = page.get_by_role("navigation", name="Workflow")
    tabs.get_by_role("link", name="Versions", exact=True).click()
    page.wait_for_url(re.compile(r"/workflows/wf_[A-Za-z0-9_]+/versions/$"))
    expect(page.get_by_label("Versions")).to_be_visible(timeout=TIMEOUT)
    expect(tabs.get_by_role("link", name="Versions", exact=True)).to_have_attribute(
        "aria-current", "page"
    )

    # The seed's Text Analysis Pipeline, with a conditional and a loop, by dragging.
    page.goto(f"{base}/workflows/new/")
    page.wait_for_selector("body[data-editor-ready='true'][data-editor-layout='done']")
    canvas = page.get_by_test_id("editor-canvas")
    # A narrow window starts with the palette collapsed: the newcomer opens it.
    show_palette = page.get_by_role("button", name="Show the palette")
    if width < 1200:
        show_palette.click()
    expect(page.get_by_role("complementary", name="Palette")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Text Analysis Pipeline")
    page.get_by_label("Description", exact=True).fill("Analyze text sentiment and extract entities")
    page.get_by_label("New input name").fill("text")
    page.get_by_role("button", name="Add input").click()

    _drag_step(page, "builtin/sentiment-vader", "sentiment", canvas)
    _insert(page, "Input", "${workflow.input.text}")
    _drag_step(page, "builtin/capitalized-phrases", "entities", _node(page, "sentiment"))
    _insert(page, "Input", "${workflow.input.text}")
    _drag_step(page, "builtin/extractive-summary", "summary", _node(page, "entities"))
    _insert(page, "Input", "${workflow.input.text}")
    page.get_by_label("Add dependency").select_option("sentiment")
    page.get_by_label("Add dependency").select_option("entities")

    _drag_step(page, "Conditional", "route", _node(page, "summary"))
    # The picker offers whole results; the condition reads a field of one.
    page.get_by_role("textbox", name="Condition").fill("${sentiment.result.label} == 'POSITIVE'")
    for branch, model in (
        ("if_true", "builtin/extractive-summary"),
        ("if_false", "builtin/yake-keywords"),
    ):
        _drag(page, model, page.get_by_test_id(f"slot-route-{branch}"))
        expect(_node(page, f"route.{branch}")).to_contain_text(model, timeout=TIMEOUT)
    # Clicking a branch card edits its conditional: each branch reads the text.
    _node(page, "route.if_true").click()
    branch_inputs = page.get_by_label("Insert reference into Input")
    expect(branch_inputs).to_have_count(2, timeout=TIMEOUT)
    for i in range(2):
        branch_inputs.nth(i).select_option("${workflow.input.text}")

    _drag_step(page, "Loop", "each_entity", _node(page, "summary"))
    _insert(page, "Iterate over", "${entities.result}")
    _drag(page, "builtin/sentiment-vader", page.get_by_test_id("slot-each_entity-step"))
    expect(_node(page, "each_entity.step")).to_contain_text(
        "builtin/sentiment-vader", timeout=TIMEOUT
    )
    _node(page, "each_entity.step").click()
    _insert(page, "Input", "${loop.current_item}")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Change note").fill("First draft")
    page.get_by_role("button", name="Create workflow").click()
    page.wait_for_url(re.compile(r"/workflows/wf_[A-Za-z0-9_]+/$"))
    workflow_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    steps = {
        s["id"]: s
        for s in Workflow.objects.get(public_id=workflow_id).published_version().definition["steps"]
    }
    assert {k: steps[k]["type"] for k in steps} == {
        "sentiment": "inference",
        "entities": "inference",
        "summary": "inference",
        "route": "conditional",
        "each_entity": "loop",
    }
    assert steps["route"]["condition"] == "${sentiment.result.label} == 'POSITIVE'"
    assert steps["route"]["if_true"] == {
        "type": "inference",
        "model": "builtin/extractive-summary",
        "input": "${workflow.input.text}",
    }
    assert steps["route"]["if_false"] == {
        "type": "inference",
        "model": "builtin/yake-keywords",
        "input": "${workflow.input.text}",
    }
    assert steps["each_entity"]["iterate_over"] == "${entities.result}"
    assert steps["each_entity"]["step"] == {
        "type": "inference",
        "model": "builtin/sentiment-vader",
        "input": "${loop.current_item}",
    }
    assert steps["summary"]["depends_on"] == ["sentiment", "entities"]

    # Run it from its page and see it complete.
    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("text").fill(TEXT)
    dialog.get_by_role("button", name="Start run").click()
    _expect_live_completion(page)
    expect(page.locator('[data-step-id="route"]')).to_contain_text(
        re.compile(r"Took the (true|false) branch")
    )
    loop = page.locator('[data-step-id="each_entity"]')
    expect(loop).to_have_attribute("data-status", "completed")
    iterations = loop.get_by_test_id("node-iterations").locator("li")
    expect(iterations.first).to_be_visible()
    expect(
        loop.get_by_test_id("node-iterations").locator('li[data-status="completed"]')
    ).to_have_count(iterations.count())

    # Shared read-only with bob, who may look but not run it.
    page.get_by_role("navigation", name="Workflow").get_by_role("link", name="Sharing").click()
    page.get_by_role("combobox", name="Person or team").fill("bo")
    page.get_by_role("option", name=re.compile("bob")).click()
    page.get_by_role("button", name="Grant access").click()
    row = page.get_by_role("row", name=re.compile("^bob"))
    expect(row.get_by_role("checkbox", name="Read for bob")).to_be_checked(timeout=TIMEOUT)
    expect(row.get_by_role("checkbox", name="Execute for bob")).not_to_be_checked()
    _sign_out(page)

    sign_in(page, base, bob)
    page.goto(f"{base}/workflows/{workflow_id}/runs/")
    expect(page.get_by_test_id("run-disabled")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Run", exact=True)).to_have_count(0)
