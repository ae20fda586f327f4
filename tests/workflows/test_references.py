"""References: ``${...}`` parsing, finding, rendering and path lookup."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflows.definition.references import (
    MAX_REFERENCE_LENGTH,
    Reference,
    ReferenceResolutionError,
    ReferenceSyntaxError,
    find_references,
    get_path,
    iter_reference_errors,
    iter_strings,
    parse_reference,
    render,
    scan_text,
)

# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("raw", "kind", "name", "path"),
    [
        ("${workflow.input.text}", "workflow_input", "text", ()),
        ("${workflow.input.doc.pages[0]}", "workflow_input", "doc", ("pages", 0)),
        ("${sentiment.result}", "step", "sentiment", ()),
        ('${s.result.a.b[0]["key"]}', "step", "s", ("a", "b", 0, "key")),
        ("${s.result['odd key'][-1]}", "step", "s", ("odd key", -1)),
        ("${loop.current_item}", "loop", "current_item", ()),
        ("${loop.current_item.title}", "loop", "current_item", ("title",)),
        ("${loop.index}", "loop", "index", ()),
        ("${template.max_tokens}", "template", "max_tokens", ()),
        ("${secrets.OPENAI_KEY}", "secret", "OPENAI_KEY", ()),
        ("${ s.result }", "step", "s", ()),
    ],
)
def test_parse_reference_reads_every_kind(raw, kind, name, path):
    assert parse_reference(raw) == Reference(raw, kind, name, path)


def test_step_reference_exposes_step_id_and_others_do_not():
    assert parse_reference("${s.result}").step_id == "s"
    assert parse_reference("${workflow.input.s}").step_id is None


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("${}", "empty reference"),
        ("${sentiment}", "${sentiment.result}"),
        ("${sentiment.output}", "${sentiment.result}"),
        ("${workflow.text}", "${workflow.input.NAME}"),
        ("${workflow.input}", "${workflow.input.NAME}"),
        ("${input.text}", "${workflow.input.NAME}"),
        ("${loop.item}", "${loop.current_item}"),
        ("${loop.index.x}", "${loop.current_item}"),
        ("${template.a.b}", "${template.NAME}"),
        ("${secrets}", "${secrets.NAME}"),
        ("${steps.result}", "reserved"),
        ("${a.result..x}", "unexpected text"),
        ("${a.result[x]}", "unexpected text"),
        ("${1abc.result}", "starts with a step id"),
    ],
)
def test_malformed_reference_message_explains_the_syntax(raw, fragment):
    with pytest.raises(ReferenceSyntaxError) as caught:
        parse_reference(raw)
    assert fragment in str(caught.value)


def test_quoted_key_may_contain_a_closing_brace():
    [match] = scan_text('see ${a.result["x}y"]} here')
    assert match.reference == Reference('${a.result["x}y"]}', "step", "a", ("x}y",))


def test_unterminated_reference_is_reported_and_scanning_goes_on():
    matches = scan_text("${a.result and ${b.result}")
    assert matches[0].error is not None and "unterminated" in matches[0].error
    assert matches[1].reference == parse_reference("${b.result}")


def test_reference_longer_than_the_limit_reads_as_unterminated():
    text = "${a.result." + "x" * MAX_REFERENCE_LENGTH + "}"
    [match] = scan_text(text)
    assert match.error is not None and "unterminated" in match.error


def test_double_dollar_escapes_a_literal_reference():
    assert scan_text("price: $${not.result} and $5") == []


# --------------------------------------------------------------------------- finding


def test_find_references_walks_nested_values_in_document_order():
    value = {
        "a": "${x.result}",
        "b": ["text ${workflow.input.q} and ${y.result.z}", {"c": "${loop.index}"}],
        "d": 5,
    }
    assert [r.raw for r in find_references(value)] == [
        "${x.result}",
        "${workflow.input.q}",
        "${y.result.z}",
        "${loop.index}",
    ]


def test_find_references_ignores_dict_keys():
    assert find_references({"${x.result}": "plain"}) == []


def test_iter_reference_errors_lists_each_malformed_reference():
    errors = iter_reference_errors({"a": "${}", "b": ["${sentiment}", "${ok.result}"]})
    assert len(errors) == 2
    assert "empty reference" in errors[0]
    assert "${sentiment.result}" in errors[1]


def test_iter_strings_gives_field_paths():
    value = {"inputs": {"a": ["x", {"gpt-3.5": "y"}]}}
    assert list(iter_strings(value)) == [
        ("inputs.a[0]", "x"),
        ('inputs.a[1]["gpt-3.5"]', "y"),
    ]


def test_walking_very_deep_data_does_not_overflow_the_stack():
    deep: object = "${x.result}"
    for _ in range(5000):
        deep = [deep]
    assert [r.name for r in find_references(deep)] == ["x"]


# --------------------------------------------------------------------------- rendering

RESULTS = {
    "s": {"label": "POSITIVE", "scores": [0.9, 0.1], "none": None, "ok": True},
    "t": "plain text",
}


def _lookup(ref: Reference):
    return get_path(RESULTS[ref.name], ref.path, reference=ref.raw)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${s.result.scores}", [0.9, 0.1]),
        ("${s.result}", RESULTS["s"]),
        ("${s.result.scores[0]}", 0.9),
        ("${s.result.none}", None),
        ("${s.result.ok}", True),
    ],
)
def test_exact_reference_keeps_its_json_type(template, expected):
    assert render(template, _lookup) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Label: ${s.result.label}", "Label: POSITIVE"),
        ("Scores=${s.result.scores}", "Scores=[0.9,0.1]"),
        ("None=${s.result.none}, ok=${s.result.ok}", "None=null, ok=true"),
        ("${t.result}!", "plain text!"),
        ("${t.result}${t.result}", "plain textplain text"),
        ("literal $${s.result}", "literal ${s.result}"),
        (" ${t.result}", " plain text"),
    ],
)
def test_embedded_references_are_interpolated_as_text(template, expected):
    assert render(template, _lookup) == expected


def test_embedded_object_is_compact_json():
    rendered = render("S=${s.result}", _lookup)
    assert json.loads(rendered.removeprefix("S=")) == RESULTS["s"]
    assert ", " not in rendered


def test_render_recurses_and_leaves_the_original_untouched():
    original: dict[str, Any] = {"a": ["${s.result.label}", {"b": "${s.result.scores[1]}"}], "n": 3}
    assert render(original, _lookup) == {"a": ["POSITIVE", {"b": 0.1}], "n": 3}
    assert original["a"][0] == "${s.result.label}"


def test_render_raises_on_a_malformed_reference():
    with pytest.raises(ReferenceSyntaxError):
        render("x ${sentiment} y", _lookup)


def test_render_propagates_resolution_errors_naming_the_reference():
    with pytest.raises(ReferenceResolutionError) as caught:
        render("${s.result.missing}", _lookup)
    assert "${s.result.missing}" in str(caught.value)
    assert caught.value.reference == "${s.result.missing}"


# --------------------------------------------------------------------------- get_path


def test_get_path_follows_keys_and_indexes():
    assert get_path({"a": [{"b": 1}, {"b": 2}]}, ("a", -1, "b")) == 2


def test_get_path_accepts_a_digit_key_on_a_list():
    assert get_path({"items": ["x", "y"]}, ("items", "1")) == "y"


@pytest.mark.parametrize(
    ("value", "path", "fragment"),
    [
        ({"a": 1}, ("b",), "no key 'b' (keys: 'a')"),
        ([1, 2], (2,), "index 2 is out of range (the list has 2 items)"),
        ([1, 2], ("x",), "cannot read key 'x' of a list"),
        ("text", ("x",), "cannot read 'x' of a str"),
        (None, (0,), "cannot read 0 of null"),
    ],
)
def test_get_path_errors_name_the_reference_and_the_problem(value, path, fragment):
    with pytest.raises(ReferenceResolutionError) as caught:
        get_path(value, path, reference="${s.result.x}")
    assert str(caught.value).startswith("${s.result.x}: ")
    assert fragment in str(caught.value)
