"""jq and Liquid expressions: detection, variables, coercion and errors."""

from __future__ import annotations

from typing import Any

import pytest

from jwp.server.workflow.errors import ErrorType, WorkflowError
from jwp.server.workflow.expressions import (
    JqExpression,
    LiquidExpression,
    Template,
    coerce_rendered,
    is_truthy,
    parse_expression,
)


def evaluate(raw: Any, value: Any = None, variables: dict[str, Any] | None = None) -> Any:
    return Template(raw).evaluate(value, variables or {})


@pytest.mark.parametrize(
    ("text", "kind", "body"),
    [
        ("${.key}", JqExpression, ".key"),
        ("  ${ .key | @text }  ", JqExpression, " .key | @text "),
        ("$${{{ key }}}", LiquidExpression, "{{ key }}"),
        ("\n$${\n{{ key }}\n}\n", LiquidExpression, "\n{{ key }}\n"),
        ("${ {a: 1} }", JqExpression, " {a: 1} "),
    ],
)
def test_expression_detection(text: str, kind: type, body: str) -> None:
    expression = parse_expression(text)
    assert isinstance(expression, kind)
    assert expression.body == body  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["key", "key | @text", "${.key", "prefix ${.key}", "$.{a}", ""])
def test_literal_strings_stay_literal(text: str) -> None:
    assert parse_expression(text) is None
    assert evaluate(text, {"key": 1}) == text


def test_jq_results_one_several_none() -> None:
    assert evaluate("${.key}", {"key": 1}) == 1
    assert evaluate("${.[]}", [1, 2, 3]) == [1, 2, 3]
    assert evaluate("${empty}", {"key": 1}) == []
    assert evaluate("${.missing}", {"key": 1}) is None


def test_jq_runtime_error_is_expression_error() -> None:
    with pytest.raises(WorkflowError) as caught:
        evaluate("${.files}", "a string")
    assert caught.value.type == ErrorType.EXPRESSION
    assert "Cannot index string" in str(caught.value)


def test_jq_syntax_error_at_compile() -> None:
    with pytest.raises(WorkflowError) as caught:
        Template("${.[}")
    assert "does not compile" in str(caught.value)


def test_jq_variables_and_undefined_ones() -> None:
    variables = {"input": {"a": 1}, "item": "x", "index": 2}
    assert evaluate("${[$item, $index, $input.a]}", None, variables) == ["x", 2, 1]
    assert evaluate("${$nothing}", None, variables) is None


def test_jq_cannot_read_server_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWP_TEST_SECRET", "hidden")
    assert evaluate("${$ENV}") is None
    assert evaluate("${env}") == {}
    assert "hidden" not in repr(evaluate("${[$ENV, env]}"))


def test_jq_trailing_comment_keeps_filter() -> None:
    assert evaluate("${ .a # the value\n}", {"a": 5}) == 5


def test_liquid_sees_input_keys_and_variables() -> None:
    assert evaluate("$${{{ key }}-{{ item }}}", {"key": "k"}, {"item": "i"}) == "k-i"
    assert evaluate("$${{{ raw_input }}}", "/home") == "/home"


def test_liquid_input_keys_win_over_variables() -> None:
    assert evaluate("$${{{ key }}}", {"key": "from-input"}, {"key": "from-context"}) == (
        "from-input"
    )


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ("1", 1),
        ("-17", -17),
        ("2.55", 2.55),
        ("1e3", 1000.0),
        ("true", True),
        ("false", False),
        ("True", "True"),
        (" 1", " 1"),
        ("1_000", "1_000"),
        ("inf", "inf"),
        ('{"hoge": 2.55}', '{"hoge": 2.55}'),
        ("[1, 2]", "[1, 2]"),
        ("", ""),
        ("text", "text"),
    ],
)
def test_liquid_rendering_coercion(rendered: str, expected: Any) -> None:
    result = coerce_rendered(rendered)
    assert result == expected
    assert type(result) is type(expected)


def test_liquid_json_text_is_not_parsed_in_values() -> None:
    assert evaluate('$${{"hoge": {{ key2 }}}}', {"key2": 2.55}) == '{"hoge": 2.55}'


def test_liquid_json_is_parsed_in_whole_transforms() -> None:
    template = Template('$${{"hoge": {{ key2 }}}}')
    assert template.evaluate({"key2": 2.55}, {}, structured=True) == {"hoge": 2.55}
    listing = Template("$${[{{ a }}, {{ b }}]}")
    assert listing.evaluate({"a": 1, "b": 2}, {}, structured=True) == [1, 2]
    number = Template("$${{{ a }}}")
    assert number.evaluate({"a": 3}, {}, structured=True) == 3
    not_json = Template('$${{"a": {{ a }}}}')
    assert not_json.evaluate({"a": "x"}, {}, structured=True) == '{"a": x}'


def test_liquid_json_filters() -> None:
    assert evaluate("$${{{ obj | json_encode }}}", {"obj": {"a": [1, "x"]}}) == '{"a":[1,"x"]}'
    decoded = evaluate(
        "$${{{ text | json_decode | map: 'a' | join: ',' }}}", {"text": '[{"a": 1}, {"a": 2}]'}
    )
    assert decoded == "1,2"


def test_liquid_undefined_variable_fails_but_is_falsy() -> None:
    with pytest.raises(WorkflowError) as caught:
        evaluate("$${{{ nope }}}", {})
    assert "nope" in str(caught.value)
    assert evaluate("$${{% if nope %}yes{% else %}no{% endif %}}", {}) == "no"


def test_liquid_syntax_error_at_compile() -> None:
    with pytest.raises(WorkflowError) as caught:
        Template("$${{% if %}}")
    assert "does not compile" in str(caught.value)


def test_liquid_cannot_include_files() -> None:
    with pytest.raises(WorkflowError):
        evaluate("$${{% include '/etc/passwd' %}}", {})


def test_liquid_loop_limit_stops_runaway_template() -> None:
    with pytest.raises(WorkflowError):
        evaluate("$${{% for i in (1..100000000) %}{% endfor %}}", {})


def test_readme_liquid_listing_template() -> None:
    template = Template(
        "$${\n"
        "{%- assign files = stdout | newline_to_br | split: '<br />' -%}\n"
        '{"files": [\n'
        "{%- for file in files -%}\n"
        '"{{- file |strip_newlines -}}"{% unless forloop.last %},{% endunless -%}\n'
        "{%- endfor -%}\n"
        "] }\n"
        "}"
    )
    result = template.evaluate({"stdout": "bin\ndev\netc"}, {}, structured=True)
    assert result == {"files": ["bin", "dev", "etc"]}


def test_readme_liquid_condition() -> None:
    condition = Template(
        '$${{%- assign head_char = file | slice: 0, 1 -%}{%- if head_char == "d" %}true'
        "{% else %}false{% endif -%}}"
    )
    assert condition.evaluate({}, {"file": "dev"}) is True
    assert condition.evaluate({}, {"file": "bin"}) is False


def test_nested_objects_and_arrays_are_evaluated() -> None:
    raw = {
        "command": "ls",
        "args": ["${.path}", "-l", "$${{{ flag }}}"],
        "nested": {"deep": ["${.n + 1}"], "plain": 3},
    }
    result = evaluate(raw, {"path": "/tmp", "flag": "-a", "n": 1})
    assert result == {
        "command": "ls",
        "args": ["/tmp", "-l", "-a"],
        "nested": {"deep": [2], "plain": 3},
    }


def test_template_without_expressions_is_literal() -> None:
    raw = {"a": [1, "x"], "b": None}
    template = Template(raw)
    assert template.literal
    assert template.evaluate(None, {}) == raw


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        (None, False),
        (False, False),
        (True, True),
        (0, False),
        (0.0, False),
        (0.5, True),
        (-1, True),
        ("", False),
        ("false", True),
        ([], False),
        ([0], True),
        ({}, False),
        ({"a": None}, True),
    ],
)
def test_truthiness(value: Any, truthy: bool) -> None:
    assert is_truthy(value) is truthy
