"""The DAG editor in a real browser: build, connect, undo, code view, read-only.

alice owns the workflows; bob is a team member who may only read them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import SIMPLE_DEFINITION, client_for
from workflows.models import Workflow

CYCLE_MESSAGE = "That connection would make a cycle"


def _create(owner: Any, definition: dict[str, Any] | None = None) -> str:
    response = client_for(owner).post(
        "/api/v1/workflows", definition or copy.deepcopy(SIMPLE_DEFINITION), format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _open_editor(page: Any, base_url_for: Any, user: Any, workflow_id: str | None) -> None:
    sign_in(page, base_url_for("").rstrip("/"), user)
    path = f"/workflows/{workflow_id}/" if workflow_id else "/workflows/new/"
    page.goto(base_url_for(path))
    page.wait_for_selector("body[data-editor-ready='true'][data-editor-layout='done']")


def _node(page: Any, step_id: str) -> Any:
    return page.locator(f".react-flow__node[data-id='{step_id}']")


def _connect(page: Any, source: str, target: str) -> None:
    _node(page, source).locator(".react-flow__handle.source").drag_to(
        _node(page, target).locator(".react-flow__handle.target")
    )


def _edge(page: Any, edge_id: str) -> Any:
    return page.locator(f".react-flow__edge[data-id='{edge_id}']")


def _flow_position(page: Any, step_id: str) -> str:
    """The node's place on the canvas (its transform), whatever the viewport."""
    return _node(page, step_id).evaluate("el => el.style.transform")


@pytest.fixture
def alice(make_user: Any) -> Any:
    return make_user("alice")


def test_user_adds_a_step_by_drag_and_drop_connects_it_and_saves_a_version(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    workflow_id = _create(alice)
    _open_editor(page, base_url_for, alice, workflow_id)
    canvas = page.get_by_test_id("editor-canvas")

    page.get_by_role("button", name="Add builtin/yake-keywords").drag_to(
        canvas, target_position={"x": 420, "y": 420}
    )
    expect(_node(page, "yake_keywords")).to_be_visible()
    expect(page.get_by_test_id("step-panel")).to_be_visible()  # the new step is selected

    _connect(page, "summary", "yake_keywords")
    _edge(page, "dep:summary->yake_keywords").wait_for(state="attached")

    _connect(page, "yake_keywords", "clean")
    expect(page.get_by_test_id("toast").get_by_text(CYCLE_MESSAGE)).to_be_visible()
    expect(_edge(page, "dep:yake_keywords->clean")).to_have_count(0)

    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Change note").fill("Keywords after the summary")
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved a new version").wait_for()

    workflow = Workflow.objects.get(public_id=workflow_id)
    latest = workflow.versions.latest("number")
    assert latest.number == 2
    assert latest.change_note == "Keywords after the summary"
    steps = {s["id"]: s for s in latest.definition["steps"]}
    assert steps["yake_keywords"]["model"] == "builtin/yake-keywords"
    assert steps["yake_keywords"]["depends_on"] == ["summary"]
    assert "yake_keywords" in latest.definition["ui"]["nodes"]


def test_the_seed_text_analysis_pipeline_is_built_without_typing_json(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    _open_editor(page, base_url_for, alice, None)
    expect(page.get_by_text("Drag a step from the palette to start")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Text Analysis Pipeline")
    page.get_by_label("Description", exact=True).fill("Analyze text sentiment and extract entities")
    page.get_by_label("New input name").fill("text")
    page.get_by_role("button", name="Add input").click()

    def add(model: str, step_id: str) -> None:
        page.get_by_role("button", name=f"Add {model}").click()
        page.locator("#step-id").fill(step_id)
        page.locator("#step-id").press("Enter")
        _node(page, step_id).wait_for(state="attached")

    add("builtin/sentiment-vader", "sentiment")
    page.get_by_label("Insert reference into Input").select_option("${workflow.input.text}")
    add("builtin/capitalized-phrases", "entities")
    page.get_by_label("Insert reference into Input").select_option("${workflow.input.text}")
    _connect(page, "sentiment", "entities")
    add("builtin/extractive-summary", "summary")
    text = page.get_by_role("textbox", name="Input")
    text.fill("Summarize: Sentiment=")
    page.get_by_label("Insert reference into Input").select_option("${sentiment.result}")
    text.press("End")
    text.press_sequentially(", Entities=")
    page.get_by_label("Insert reference into Input").select_option("${entities.result}")
    page.get_by_label("Add dependency").select_option("sentiment")
    page.get_by_label("Add dependency").select_option("entities")

    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Change note").fill("First draft")
    page.get_by_role("button", name="Create workflow").click()
    page.wait_for_url("**/workflows/wf_*/")

    workflow = Workflow.objects.get(name="Text Analysis Pipeline")
    definition = workflow.published_version().definition
    assert definition["input_schema"] == {"text": {"type": "string"}}
    assert [
        {k: v for k, v in step.items() if k in ("id", "model", "input", "depends_on")}
        for step in definition["steps"]
    ] == [
        {"id": "sentiment", "model": "builtin/sentiment-vader", "input": "${workflow.input.text}"},
        {
            "id": "entities",
            "model": "builtin/capitalized-phrases",
            "input": "${workflow.input.text}",
            "depends_on": ["sentiment"],
        },
        {
            "id": "summary",
            "model": "builtin/extractive-summary",
            "input": "Summarize: Sentiment=${sentiment.result}, Entities=${entities.result}",
            "depends_on": ["sentiment", "entities"],
        },
    ]
    assert workflow.published_version().change_note == "First draft"


def test_validation_marks_the_node_the_field_and_the_problems_list(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    _open_editor(page, base_url_for, alice, None)
    page.get_by_role("button", name="Add Inference").click()
    node = _node(page, "inference")
    node.get_by_test_id("node-error-badge").wait_for()
    assert "needs a 'model'" in node.get_by_test_id("node-error-badge").get_attribute("title")
    panel = page.get_by_test_id("step-panel")
    expect(panel.locator(".error-detail").get_by_text("needs a 'model'")).to_be_visible()

    page.get_by_role("tab", name="Problems").click()
    problem = page.get_by_role("list", name="Problems").get_by_role("button")
    expect(problem.first).to_contain_text("needs a 'model'")

    page.get_by_role("tab", name="Properties").click()
    page.get_by_role("combobox", name="Model").fill("builtin/yake-keywords")
    node.get_by_test_id("node-error-badge").wait_for(state="detached")


def test_undo_and_redo_restore_and_reapply_an_edit(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    workflow_id = _create(alice)
    _open_editor(page, base_url_for, alice, workflow_id)

    _node(page, "summary").click()
    page.keyboard.press("Delete")
    expect(_node(page, "summary")).to_have_count(0)

    page.keyboard.press("Control+z")
    expect(_node(page, "summary")).to_be_visible()

    page.keyboard.press("Control+Shift+z")
    expect(_node(page, "summary")).to_have_count(0)

    page.keyboard.press("Control+z")
    before = _flow_position(page, "clean")
    box = _node(page, "clean").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(box["x"] + 60 + step * 30, box["y"] + 40 + step * 20)
    page.mouse.up()
    assert _flow_position(page, "clean") != before
    page.keyboard.press("Control+z")  # the whole drag is one entry
    assert _flow_position(page, "clean") == before
    page.keyboard.press("Control+y")
    assert _flow_position(page, "clean") != before


def test_copy_paste_and_multi_select_delete(page: Any, base_url_for: Any, alice: Any) -> None:
    workflow_id = _create(alice)
    _open_editor(page, base_url_for, alice, workflow_id)

    _node(page, "clean").click()
    _node(page, "summary").click(modifiers=["Shift"])
    expect(page.get_by_text("2 steps selected")).to_be_visible()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    _node(page, "clean_copy").wait_for(state="attached")
    _node(page, "summary_copy").wait_for(state="attached")
    # The copy reads the copied step, not the original.
    _edge(page, "ref:clean_copy->summary_copy").wait_for(state="attached")

    page.get_by_role("button", name="Delete 2 steps").click()
    expect(_node(page, "clean_copy")).to_have_count(0)
    expect(_node(page, "summary_copy")).to_have_count(0)
    expect(_node(page, "clean")).to_be_visible()


def _code_text(page: Any) -> str:
    return page.evaluate(
        "() => [...document.querySelectorAll('.cm-line')].map(l => l.textContent).join('\\n')"
    )


def test_code_view_and_canvas_stay_in_sync_both_ways(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    workflow_id = _create(alice)
    _open_editor(page, base_url_for, alice, workflow_id)
    page.get_by_role("button", name="Code").click()
    page.locator(".cm-content").wait_for()
    assert '"summary"' in _code_text(page)

    # Canvas → text.
    page.get_by_role("button", name="Add builtin/capitalized-phrases").click()
    page.wait_for_function(
        "() => document.querySelector('.cm-content').innerText"
        ".includes('builtin/capitalized-phrases')"
    )

    # Text → canvas.
    definition = copy.deepcopy(SIMPLE_DEFINITION)
    definition["steps"].append(
        {"id": "from_text", "type": "aggregation", "depends_on": ["summary"]}
    )
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(json.dumps(definition, indent=2))
    _node(page, "from_text").wait_for(state="attached")
    _edge(page, "dep:summary->from_text").wait_for(state="attached")
    expect(_node(page, "capitalized_phrases")).to_have_count(0)

    # Invalid text says why and leaves the canvas alone.
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("{ not json")
    page.get_by_test_id("code-error").wait_for()
    expect(_node(page, "from_text")).to_be_visible()


def test_read_only_member_cannot_edit(
    page: Any, base_url_for: Any, alice: Any, make_user: Any, team: Any
) -> None:
    bob = make_user("bob")
    alice.groups.add(team)
    bob.groups.add(team)
    workflow_id = _create(alice)
    granted = client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/permissions",
        {"read": [f"team:{team.name}"]},
        format="json",
    )
    assert granted.status_code == 200, granted.content
    _open_editor(page, base_url_for, bob, workflow_id)

    read_only = "Read-only: you can view this workflow but not change it"
    expect(page.get_by_text(read_only)).to_be_visible()
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    expect(page.get_by_label("Palette")).to_have_count(0)

    before = _flow_position(page, "clean")
    box = _node(page, "clean").bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 260, box["y"] + 200, steps=5)
    page.mouse.up()
    assert _flow_position(page, "clean") == before

    _node(page, "clean").click()
    page.keyboard.press("Delete")
    expect(_node(page, "clean")).to_be_visible()
    expect(page.locator("#step-id")).to_be_disabled()


def test_a_depends_on_edge_is_deleted_but_a_reference_edge_stays(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    definition = copy.deepcopy(SIMPLE_DEFINITION)
    definition["steps"].append({"id": "after", "type": "aggregation", "depends_on": ["summary"]})
    workflow_id = _create(alice, definition)
    _open_editor(page, base_url_for, alice, workflow_id)

    _edge(page, "ref:clean->summary").click(force=True)
    page.keyboard.press("Delete")
    expect(_edge(page, "ref:clean->summary")).to_have_count(1)

    _edge(page, "dep:summary->after").click(force=True)
    page.keyboard.press("Delete")
    _edge(page, "dep:summary->after").wait_for(state="detached")
    page.get_by_role("button", name="Code").click()
    page.locator(".cm-content").wait_for()
    text = _code_text(page)
    assert '"id": "after",\n      "type": "aggregation",\n      "depends_on": []' in text
    assert '"input": "${clean.result}"' in text
    page.get_by_role("button", name="Code").click()
    page.keyboard.press("Control+z")
    _edge(page, "dep:summary->after").wait_for(state="attached")


def test_import_yaml_into_the_canvas_and_export_json(
    page: Any, base_url_for: Any, alice: Any, tmp_path: Any
) -> None:
    workflow_id = _create(alice)
    _open_editor(page, base_url_for, alice, workflow_id)
    upload = tmp_path / "pipeline.yaml"
    upload.write_text(
        "name: Imported\n"
        "input_schema:\n  text: {type: string}\n"
        "steps:\n"
        "  - id: tidy\n    type: data_processing\n    function: clean_text\n"
        "    input: ${workflow.input.text}\n"
        "  - id: gist\n    type: inference\n    model: builtin/extractive-summary\n"
        "    input: ${tidy.result}\n"
    )
    page.get_by_test_id("import-file").set_input_files(str(upload))
    _node(page, "gist").wait_for(state="attached")
    expect(_node(page, "clean")).to_have_count(0)
    _edge(page, "ref:tidy->gist").wait_for(state="attached")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export JSON").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["name"] == "Imported"
    assert [s["id"] for s in exported["steps"]] == ["tidy", "gist"]


def test_leaving_with_unsaved_changes_asks_first(page: Any, base_url_for: Any, alice: Any) -> None:
    workflow_id = _create(alice)
    _open_editor(page, base_url_for, alice, workflow_id)
    page.get_by_role("button", name="Add builtin/capitalized-phrases").click()
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("link", name="Runs").click()
    assert asked and "unsaved changes" in asked[0]
    assert page.url.endswith(f"/workflows/{workflow_id}/")
    expect(_node(page, "capitalized_phrases")).to_be_visible()
