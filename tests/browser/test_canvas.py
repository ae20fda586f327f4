"""The editor's canvas at laptop sizes: it fits the window, panels collapse and stay
collapsed, the view fits what is visible, and long chains are laid out readably.

alice owns the workflows. Geometry is read from the real page (bounding boxes in
Chromium), never from the code that computed it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import client_for
from tests.seed import text_analysis_pipeline
from workflows.models import Workflow

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

SIZES = [(1280, 800), (1024, 700)]


def seed_pipeline() -> dict[str, Any]:
    """The seed's Text Analysis Pipeline with a conditional and a loop: five nodes."""
    doc = text_analysis_pipeline()
    doc["input_schema"] = {
        "text": {"type": "string"},
        "sentences": {"type": "array", "items": {"type": "string"}, "required": False},
    }
    doc["steps"] += [
        {
            "id": "route",
            "type": "conditional",
            "condition": "${sentiment.result.label} == 'POSITIVE'",
            "if_true": {
                "type": "inference",
                "model": "gpt-3.5-turbo",
                "input": "Analyze positive sentiment: ${workflow.input.text}",
            },
            "if_false": {
                "type": "inference",
                "model": "gpt-3.5-turbo",
                "input": "Analyze negative sentiment: ${workflow.input.text}",
            },
        },
        {
            "id": "per_sentence",
            "type": "loop",
            "iterate_over": "${workflow.input.sentences}",
            "max_iterations": 20,
            "step": {
                "type": "inference",
                "model": "gpt-3.5-turbo",
                "input": "Analyze: ${loop.current_item}",
            },
            "depends_on": ["summary"],
        },
    ]
    return doc


def chain(length: int) -> dict[str, Any]:
    return {
        "name": f"Chain of {length}",
        "steps": [
            {
                "id": f"s{i}",
                "type": "data_processing",
                "function": "noop",
                "input": f"${{s{i - 1}.result}}" if i else "start",
            }
            for i in range(length)
        ],
    }


def _create(owner: Any, definition: dict[str, Any]) -> str:
    response = client_for(owner).post("/api/v1/workflows", copy.deepcopy(definition), format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _open(page: Any, base_url_for: Any, workflow_id: str) -> None:
    page.goto(base_url_for(f"/workflows/{workflow_id}/"))
    page.wait_for_selector("body[data-editor-ready='true'][data-editor-layout='done']")
    page.wait_for_timeout(400)  # the fit after the layout's last resize has painted


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _top_level_nodes(page: Any) -> list[Any]:
    nodes = page.locator(".react-flow__node:not(.react-flow__node-inner)")
    return [nodes.nth(i) for i in range(nodes.count())]


@pytest.fixture
def alice(make_user: Any) -> Any:
    return make_user("alice")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_seed_pipeline_fits_a_laptop_screen_clear_of_every_panel(
    page: Any, base_url_for: Any, alice: Any, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    workflow_id = _create(alice, seed_pipeline())
    sign_in(page, base_url_for("").rstrip("/"), alice)
    _open(page, base_url_for, workflow_id)

    # The editor reaches the bottom of the window (what is above it scrolls away).
    editor = _box(page.get_by_test_id("editor"))
    assert editor["y"] + editor["height"] <= height
    assert editor["y"] + editor["height"] >= height - 24

    # The toolbar is one row: every control on it shares one line.
    toolbar = _box(page.get_by_role("toolbar", name="Editor toolbar"))
    assert toolbar["height"] < 52, toolbar
    buttons = page.get_by_role("toolbar", name="Editor toolbar").get_by_role("button")
    tops = {round(_box(buttons.nth(i))["y"]) for i in range(buttons.count())}
    assert max(tops) - min(tops) < 12, tops

    # Scrolled to the editor, every step is on screen, inside the canvas and clear of
    # the palette, the side panel, the minimap and the zoom controls.
    page.get_by_test_id("editor").scroll_into_view_if_needed()
    canvas = _box(page.get_by_test_id("editor-canvas"))
    # A narrow window starts with the palette collapsed; a wider one shows it.
    palette = page.get_by_role("complementary", name="Palette")
    expect(palette).to_have_count(1 if width >= 1200 else 0)
    covers = [
        *([_box(palette)] if width >= 1200 else []),
        _box(page.get_by_role("complementary", name="Details")),
        _box(page.locator(".react-flow__minimap")),
        _box(page.locator(".react-flow__controls")),
    ]
    nodes = _top_level_nodes(page)
    assert len(nodes) == 5
    for node in nodes:
        box = _box(node)
        assert _inside(box, canvas), (node.get_attribute("data-id"), box, canvas)
        assert box["y"] >= 0 and box["y"] + box["height"] <= height
        for cover in covers:
            assert not _overlap(box, cover), (node.get_attribute("data-id"), box, cover)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"editor-{width}x{height}.png"))


def test_a_saved_view_is_kept_when_it_shows_every_step_and_refitted_when_it_does_not(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    page.set_viewport_size({"width": 1024, "height": 700})
    doc = seed_pipeline()
    doc["ui"] = {
        "nodes": {s["id"]: {"x": 400 * i, "y": 0} for i, s in enumerate(doc["steps"])},
        "viewport": {"x": 2000, "y": 900, "zoom": 1},  # saved on a big screen, far off here
    }
    off = _create(alice, doc)
    doc["ui"]["viewport"] = {"x": 10, "y": 60, "zoom": 0.2}  # shows everything here
    fits = _create(alice, doc)
    sign_in(page, base_url_for("").rstrip("/"), alice)

    _open(page, base_url_for, off)
    canvas = _box(page.get_by_test_id("editor-canvas"))
    for node in _top_level_nodes(page):
        assert _inside(_box(node), canvas), node.get_attribute("data-id")

    _open(page, base_url_for, fits)
    expect(page.locator(".react-flow__viewport")).to_have_attribute(
        "style", "transform: translate(10px, 60px) scale(0.2);"
    )


def test_collapsed_panels_stay_collapsed_after_a_reload_and_the_view_refits(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    workflow_id = _create(alice, seed_pipeline())
    sign_in(page, base_url_for("").rstrip("/"), alice)
    _open(page, base_url_for, workflow_id)
    narrow = _box(page.get_by_test_id("editor-canvas"))["width"]
    zoom_before = page.locator(".react-flow__viewport").evaluate("el => el.style.transform")

    page.get_by_role("button", name="Hide the palette").click()
    page.get_by_role("button", name="Hide the side panel").click()
    page.get_by_role("button", name="Hide the minimap").click()
    expect(page.get_by_role("complementary", name="Palette")).to_have_count(0)
    expect(page.get_by_role("complementary", name="Details")).to_have_count(0)
    expect(page.locator(".react-flow__minimap")).to_have_count(0)
    wide = _box(page.get_by_test_id("editor-canvas"))["width"]
    assert wide > narrow + 450
    # The view was fitted again to the wider canvas: a larger zoom.
    expect(page.locator(".react-flow__viewport")).not_to_have_attribute(
        "style", f"transform: {zoom_before};"
    )

    page.reload()
    page.wait_for_selector("body[data-editor-ready='true'][data-editor-layout='done']")
    expect(page.get_by_role("button", name="Show the palette")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(page.get_by_role("complementary", name="Palette")).to_have_count(0)
    expect(page.get_by_role("complementary", name="Details")).to_have_count(0)
    expect(page.locator(".react-flow__minimap")).to_have_count(0)

    page.get_by_role("button", name="Show the side panel").click()
    expect(page.get_by_role("complementary", name="Details")).to_be_visible()
    page.reload()
    page.wait_for_selector("body[data-editor-ready='true']")
    expect(page.get_by_role("complementary", name="Details")).to_be_visible()
    expect(page.get_by_role("complementary", name="Palette")).to_have_count(0)

    # A double-click on a step shows its details, opening the collapsed panel.
    page.get_by_role("button", name="Hide the side panel").click()
    expect(page.get_by_role("complementary", name="Details")).to_have_count(0)
    page.locator(".react-flow__node[data-id='summary']").dblclick()
    expect(page.get_by_test_id("step-panel")).to_be_visible()
    expect(page.locator("#step-id")).to_have_value("summary")

    # Collapsed by choice, not by size: a narrow window keeps the choice too.
    page.set_viewport_size({"width": 1024, "height": 700})
    page.get_by_role("button", name="Show the palette").click()
    page.reload()
    page.wait_for_selector("body[data-editor-ready='true']")
    expect(page.get_by_role("complementary", name="Palette")).to_be_visible()


def test_panel_choices_are_per_user(page: Any, base_url_for: Any, make_user: Any) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    base = base_url_for("").rstrip("/")
    sign_in(page, base, alice)
    _open(page, base_url_for, _create(alice, seed_pipeline()))
    page.get_by_role("button", name="Hide the palette").click()
    expect(page.get_by_role("complementary", name="Palette")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, bob)
    _open(page, base_url_for, _create(bob, seed_pipeline()))
    expect(page.get_by_role("complementary", name="Palette")).to_be_visible()


def test_a_step_dropped_on_another_lands_beside_it_not_on_top(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    workflow_id = _create(alice, seed_pipeline())
    sign_in(page, base_url_for("").rstrip("/"), alice)
    _open(page, base_url_for, workflow_id)
    canvas = page.get_by_test_id("editor-canvas")
    target = _box(page.locator(".react-flow__node[data-id='sentiment']"))
    canvas_box = _box(canvas)
    # Dropped onto the middle of 'sentiment'.
    drop = {
        "x": target["x"] + target["width"] / 2 - canvas_box["x"],
        "y": target["y"] + target["height"] / 2 - canvas_box["y"],
    }
    page.get_by_role("button", name="Add builtin/yake-keywords").drag_to(
        canvas, target_position=drop
    )
    added = page.locator(".react-flow__node[data-id='yake_keywords']")
    expect(added).to_be_visible()
    box = _box(added)
    for node in _top_level_nodes(page):
        if node.get_attribute("data-id") != "yake_keywords":
            assert not _overlap(box, _box(node)), node.get_attribute("data-id")
    # Still near the cursor: within about one card of where it was dropped.
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    dropped = (target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    assert abs(centre[0] - dropped[0]) < 2 * box["width"]
    assert abs(centre[1] - dropped[1]) < 3 * box["height"]

    # A drop on empty canvas lands exactly under the cursor.
    page.get_by_role("button", name="Hide the minimap").click()
    page.get_by_role("button", name="Add builtin/extractive-summary").drag_to(
        canvas, target_position={"x": 60 + 116, "y": canvas_box["height"] - 60}
    )
    free = _box(page.locator(".react-flow__node[data-id='extractive_summary']"))
    cursor = (canvas_box["x"] + 60 + 116, canvas_box["y"] + canvas_box["height"] - 60)
    assert free["x"] <= cursor[0] <= free["x"] + free["width"]
    assert free["y"] <= cursor[1] <= free["y"] + free["height"]


# Every edge path, sampled along its length in screen coordinates, against every node
# it does not start or end at (shrunk by 2 px so touching the border is not a hit).
EDGE_HITS = """
() => {
  const hits = [];
  const nodes = [...document.querySelectorAll('.react-flow__node')].map((el) => ({
    id: el.getAttribute('data-id'), r: el.getBoundingClientRect(),
  }));
  for (const edge of document.querySelectorAll('.react-flow__edge')) {
    const path = edge.querySelector('path.react-flow__edge-path');
    const [source, target] = edge.getAttribute('data-id').replace(/^(dep|ref):/, '').split('->');
    const matrix = path.getScreenCTM();
    const length = path.getTotalLength();
    for (let d = 0; d <= length; d += 4) {
      const p = path.getPointAtLength(d).matrixTransform(matrix);
      for (const { id, r } of nodes) {
        if (id === source || id === target) continue;
        if (p.x > r.left + 2 && p.x < r.right - 2 && p.y > r.top + 2 && p.y < r.bottom - 2) {
          hits.push(`${edge.getAttribute('data-id')} crosses ${id}`);
          break;
        }
      }
    }
  }
  return [...new Set(hits)];
}
"""


def test_a_fifty_step_chain_wraps_into_rows_and_no_edge_crosses_a_node(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    workflow_id = _create(alice, chain(50))
    sign_in(page, base_url_for("").rstrip("/"), alice)
    _open(page, base_url_for, workflow_id)  # no stored positions: laid out on open

    def rows() -> int:
        tops = {round(_box(n)["y"]) for n in _top_level_nodes(page)}
        return len(tops)

    assert rows() >= 5  # not one unreadable row
    # Fitted whole, a card is several times larger than in one row of 50 (which
    # would be about 16,000 px wide: a zoom of 0.04 on this canvas).
    card = _box(page.locator(".react-flow__node[data-id='s0']"))
    assert card["width"] >= 232 * 0.2
    assert page.evaluate(EDGE_HITS) == []

    # Auto-layout again (the button): still rows, still no edge through a node, and
    # the positions are saved in the document's layout block.
    page.get_by_role("button", name="Auto-layout").click()
    page.wait_for_timeout(600)
    assert rows() >= 5
    assert page.evaluate(EDGE_HITS) == []
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Change note").fill("Laid out")
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved a new version").wait_for()
    nodes = Workflow.objects.get(public_id=workflow_id).versions.latest("number")
    placed = nodes.definition["ui"]["nodes"]
    assert len(placed) == 50
    assert len({p["y"] for p in placed.values()}) >= 5

    # Opened again from the saved layout, the edges still keep clear of the nodes.
    page.reload()
    page.wait_for_selector("body[data-editor-ready='true'][data-editor-layout='done']")
    page.wait_for_timeout(400)
    assert rows() >= 5
    assert page.evaluate(EDGE_HITS) == []
