"""A completed step whose result is empty is flagged, with a reason when its function
and parameters make one derivable: the pure rules, and the issue's Literature Review
run on a real worker."""

from __future__ import annotations

from typing import Any

import pytest

from executions.core.emptiness import empty_flag, empty_reason, is_empty
from tests.conftest import client_for
from tests.executions.helpers import detail, events, execute, steps_by_id, wait_terminal
from workflows.builtin import builtin_templates_load
from workflows.models import Template


@pytest.mark.parametrize("value", [[], "", "  \n", {}])
def test_empty_lists_strings_and_objects_are_empty(value: Any) -> None:
    assert is_empty(value)


@pytest.mark.parametrize("value", [None, 0, False, [0], "x", {"a": None}])
def test_other_values_are_not(value: Any) -> None:
    assert not is_empty(value)


def test_a_relevance_filter_says_how_many_it_dropped_and_below_what() -> None:
    reason = empty_reason(
        [], function="relevance_filter", input=[{}, {}, {}], parameters={"min_relevance": 0.8}
    )
    assert reason == "0 of 3 papers kept: relevance below 0.8"


def test_a_relevance_filter_without_a_threshold_names_its_default() -> None:
    assert (
        empty_reason([], function="relevance_filter", input=[], parameters={})
        == "0 papers kept: relevance below 0.1"
    )


def test_a_search_and_a_pattern_name_what_found_nothing() -> None:
    assert (
        empty_reason([], function="academic_search", input="bees", parameters={})
        == "No papers found for “bees”"
    )
    assert (
        empty_reason([], function="regex_extract", input="abc", parameters={"pattern": r"\d+"})
        == r"No match for the pattern \d+"
    )


def test_any_other_step_says_empty_result() -> None:
    assert empty_reason("", function=None, input=None, parameters=None) == "empty result"


def test_only_a_completed_step_is_flagged() -> None:
    assert empty_flag("failed", [], function=None, resolved=None) == {
        "empty_result": False,
        "empty_reason": None,
    }
    assert empty_flag("completed", {"a": 1}, function=None, resolved=None)["empty_result"] is False


def test_the_issues_literature_review_flags_the_filter_that_kept_nothing(
    worker: Any, alice: Any
) -> None:
    builtin_templates_load()
    template = Template.objects.get(slug="literature-review")
    created = client_for(alice).post(
        f"/api/v1/templates/{template.public_id}/instantiate", {}, format="json"
    )
    wf = created.json()["id"]

    ex = execute(alice, wf, inputs={"research_query": "transformer models for protein folding"})

    assert wait_terminal(ex, timeout=120).status == "completed"
    steps = steps_by_id(detail(alice, wf, ex))
    assert steps["search_papers"]["empty_result"] is False
    found = len(steps["search_papers"]["result"])
    assert steps["filter_papers"]["result"] == []
    assert steps["filter_papers"]["empty_result"] is True
    assert (
        steps["filter_papers"]["empty_reason"] == f"0 of {found} papers kept: relevance below 0.8"
    )
    completed = {e.step_key: e.payload for e in events(ex) if e.type == "step.completed"}
    assert completed["filter_papers"]["empty_reason"] == steps["filter_papers"]["empty_reason"]
    assert "empty_reason" not in completed["search_papers"]
