"""Conditions: CEL over references, with readable errors and size limits."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from workflows.definition.conditions import (
    MAX_COMPREHENSION_DEPTH,
    MAX_CONDITION_LENGTH,
    MAX_CONDITION_VALUE_ITEMS,
    ConditionError,
    check_condition,
    compile_condition,
    evaluate_condition,
)
from workflows.definition.references import Reference, get_path


def lookup_in(values: dict[str, Any]):
    def lookup(ref: Reference) -> Any:
        return get_path(values[ref.name], ref.path, reference=ref.raw)

    return lookup


SENTIMENT = {"sentiment": {"label": "POSITIVE", "score": 0.93, "tags": ["a", "b"]}}


# --------------------------------------------------------------------------- compiling


def test_each_distinct_reference_becomes_one_variable():
    compiled = compile_condition("${a.result} > 1 && ${b.result.x} < 5 && ${a.result} != 3")
    assert compiled.cel_source == "_ref0 > 1 && _ref1 < 5 && _ref0 != 3"
    assert {var: ref.raw for var, ref in compiled.bindings.items()} == {
        "_ref0": "${a.result}",
        "_ref1": "${b.result.x}",
    }


def test_valid_condition_checks_clean():
    assert check_condition("${sentiment.result.label} == 'POSITIVE'") is None


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * (MAX_CONDITION_LENGTH + 1), f"longer than {MAX_CONDITION_LENGTH}"),
        ("${a.result} ==", "ends too early"),
        ("${a.result} === 2", "does not parse"),
        ("sentiment.result.label == 'x'", "uses 'sentiment', which is not a value"),
        ("${a.result} == foo || bar", "uses 'bar', 'foo', which are not values"),
        ("${a.result} == '${b.result}'", "inside a quoted string"),
        ("${sentiment} == 1", "${sentiment.result}"),
    ],
)
def test_bad_conditions_get_a_readable_message(expr, fragment):
    message = check_condition(expr)
    assert message is not None
    assert fragment in message
    assert "_ref" not in message


def test_comprehension_variables_and_type_names_are_not_unknown_names():
    assert check_condition("${a.result}.exists(item, item.ok) && type(${b.result}) == int") is None


def test_comprehensions_may_nest_only_so_deep():
    nested = "${a.result}" + ".exists(x, [1].exists(y, y > 0))"
    assert check_condition(nested) is None
    too_deep = "${a.result}.exists(x, [1].exists(y, [2].exists(z, z > 0)))"
    message = check_condition(too_deep)
    assert message is not None
    assert f"at most {MAX_COMPREHENSION_DEPTH}" in message


def test_comprehension_inside_a_string_literal_does_not_count():
    assert check_condition("${a.result} == '.map(.map(.map('") is None


def test_lone_surrogate_is_reported_not_raised():
    assert check_condition("${a.result} == '\ud800'") is not None


# --------------------------------------------------------------------------- evaluating


def test_seed_condition_compares_a_label():
    lookup = lookup_in(SENTIMENT)
    assert evaluate_condition("${sentiment.result.label} == 'POSITIVE'", lookup) is True
    assert evaluate_condition("${sentiment.result.label} == 'NEGATIVE'", lookup) is False


def test_int_literal_compares_with_a_float_value():
    assert evaluate_condition("${sentiment.result.score} > 0", lookup_in(SENTIMENT)) is True


@pytest.mark.parametrize(
    ("value", "expr"),
    [
        ({"k": 1}, "${v.result}.k == 1 && ${v.result}['k'] == 1"),
        ([1, "x", None], "${v.result} == [1, 'x', null]"),
        ((1, 2), "size(${v.result}) == 2"),
        (None, "${v.result} == null"),
        (Decimal("1.5"), "${v.result} == 1.5"),
        (True, "${v.result}"),
        (2**63, "${v.result} == 9223372036854775808u"),
    ],
)
def test_values_are_bound_as_plain_data(value, expr):
    assert evaluate_condition(expr, lookup_in({"v": value})) is True


def test_each_distinct_reference_is_looked_up_once():
    calls: list[str] = []

    def lookup(ref: Reference) -> Any:
        calls.append(ref.raw)
        return 2

    assert evaluate_condition("${a.result} > 1 && ${a.result} < 3", lookup) is True
    assert calls == ["${a.result}"]


def test_non_boolean_result_is_an_error():
    with pytest.raises(ConditionError, match="must give true or false, not float"):
        evaluate_condition("${sentiment.result.score}", lookup_in(SENTIMENT))


def test_missing_key_names_the_reference():
    with pytest.raises(ConditionError, match=r"\$\{sentiment.result.nope\}: no key 'nope'"):
        evaluate_condition("${sentiment.result.nope} == 1", lookup_in(SENTIMENT))


def test_missing_key_inside_cel_is_a_condition_error():
    with pytest.raises(ConditionError, match="missing key 'absent'"):
        evaluate_condition("${sentiment.result}.absent == 1", lookup_in(SENTIMENT))


def test_cel_type_errors_are_wrapped():
    with pytest.raises(ConditionError, match="the condition failed"):
        evaluate_condition("${sentiment.result.score} + 1 > 0", lookup_in(SENTIMENT))


def test_division_by_zero_is_wrapped():
    with pytest.raises(ConditionError, match="divides by zero"):
        evaluate_condition("1 / ${v.result} == 1", lookup_in({"v": 0}))


def test_invalid_condition_is_refused_before_lookup():
    def lookup(ref: Reference) -> Any:
        raise AssertionError("looked up")

    with pytest.raises(ConditionError, match="ends too early"):
        evaluate_condition("${a.result} ==", lookup)


def test_python_objects_cannot_be_bound():
    with pytest.raises(ConditionError, match="value of type object, which a condition cannot use"):
        evaluate_condition("${v.result} == 1", lookup_in({"v": object()}))


def test_values_over_the_item_limit_are_refused():
    big = list(range(MAX_CONDITION_VALUE_ITEMS + 1))
    with pytest.raises(ConditionError, match="too large"):
        evaluate_condition("size(${v.result}) > 0", lookup_in({"v": big}))


def test_nested_comprehensions_over_big_values_are_refused_quickly():
    data = list(range(3000))
    started = time.monotonic()
    with pytest.raises(ConditionError, match="too large for its nested comprehensions"):
        evaluate_condition(
            "${v.result}.map(a, ${v.result}.map(b, a + b)).size() > 0", lookup_in({"v": data})
        )
    assert time.monotonic() - started < 1


def test_single_linear_comprehension_over_many_items_is_allowed():
    data = list(range(50_000))
    assert evaluate_condition("${v.result}.exists(x, x == 49999)", lookup_in({"v": data}))


def test_deeply_nested_values_are_refused():
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ConditionError, match="nested too deeply"):
        evaluate_condition("${v.result} == 1", lookup_in({"v": deep}))
