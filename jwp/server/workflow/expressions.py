"""Runtime expressions of workflow documents: jq (`${…}`) and Liquid (`$${…}`).

Where a document allows an expression, a string is read like this:

- Trimmed, it starts with `$${` and ends with `}`: a Liquid template (the
  text between them). It renders to a string, which is then coerced: an
  integer or decimal number becomes a number, `true`/`false` a boolean, and
  anything else stays a string. JSON-looking text stays a string too, with
  one exception. A template that is the whole of `input.from`, `output.as`
  or `export.as` and renders a JSON object or array yields that object or
  array, because such a transform has no other way to build structured
  data in Liquid, and the jobworkerp README's example relies on it.
- Trimmed, it starts with `${` and ends with `}`: a jq filter, run on the
  current value. One output is the value; several make an array; none make
  `[]`. A jq error fails the task with an expression error.
- Anything else is a literal string.

Objects and arrays are walked, and every string in them is read the same
way, so `{args: ["${.path}", "-l"]}` evaluates only its first item.

Variables: jq sees each as `$name`, Liquid as `name`. The executor passes
`$input`, `$output`, `$context`, `$task`, `$workflow`, `$runtime` and every
context variable (from `set`, `export.as`, a `for` loop's item and index,
the workflow context). A jq variable that is not defined is null rather
than a compile error, because context variables appear at run time.
Liquid templates additionally see the keys of the current value when it
is an object, or the value itself as `raw_input` otherwise.

jq programs and Liquid templates are compiled once per text and cached.
jq's `$ENV` and `env` are empty, so a workflow cannot read the server's
environment, and Liquid has no template loader, so `include` and `render`
cannot read files.

NOTE: expressions run on the event loop. The jq library holds the GIL, so a
thread would not help, and a runaway jq filter (`range(1e12)`) stalls the
server until it ends. Liquid loops and output are capped (see
`_LiquidEnvironment`); jq has no such limit.
"""

from __future__ import annotations

import abc
import functools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import jq
from liquid import Environment, FalsyStrictUndefined
from liquid.exceptions import FilterValueError, LiquidError

from .errors import expression_error

Variables = Mapping[str, Any]
"""Variables of one evaluation by name (without `$`); may compute values lazily."""

_JQ_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# Variables of the jq language itself, which a binding must not shadow.
_JQ_SPECIAL_VARIABLES = frozenset({"__loc__", "__prog_args"})
# `$ENV` is always bound (to a context variable named ENV, or null), so it
# cannot reveal the server's environment. `env` is redefined for the same reason.
_JQ_PRELUDE = "def env: {};\n"

_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$")

_CACHE_SIZE = 4096


class Expression(abc.ABC):
    """A compiled `${…}` or `$${…}` string."""

    def __init__(self, text: str) -> None:
        self.text = text

    @abc.abstractmethod
    def evaluate(self, value: Any, variables: Variables, *, structured: bool = False) -> Any:
        """Evaluate on `value`; raise WorkflowError (type expression) when it fails.

        `structured` is set for whole-value transforms (`input.from`,
        `output.as`, `export.as`): a Liquid rendering of a JSON object or
        array is then parsed.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"


class JqExpression(Expression):
    """A jq filter, compiled with its variables bound from the evaluation's input."""

    def __init__(self, text: str, body: str) -> None:
        super().__init__(text)
        self.body = body
        self._program, self._names = _compile_jq(body)

    def evaluate(self, value: Any, variables: Variables, *, structured: bool = False) -> Any:
        bound = {name: variables.get(name) for name in self._names}
        try:
            results = self._program.input_value([value, bound]).all()
        except ValueError as error:
            raise expression_error(
                f"jq filter {self.body.strip()!r} failed: {_jq_message(error)}"
            ) from None
        if len(results) == 1:
            return results[0]
        return results


class LiquidExpression(Expression):
    """A Liquid template whose rendering is coerced to a number, a boolean or a string."""

    def __init__(self, text: str, body: str) -> None:
        super().__init__(text)
        self.body = body
        self._template = _compile_liquid(body)

    def evaluate(self, value: Any, variables: Variables, *, structured: bool = False) -> Any:
        # The current value's keys win over variables of the same name.
        template_globals = dict(variables)
        if isinstance(value, dict):
            template_globals.update(value)
        else:
            template_globals["raw_input"] = value
        try:
            rendered = self._template.render(**template_globals)
        except LiquidError as error:
            raise expression_error(
                f"Liquid template {_shorten(self.body)!r} failed: {_liquid_message(error)}"
            ) from None
        if structured:
            parsed = _parse_json_structure(rendered)
            if parsed is not None:
                return parsed
        return coerce_rendered(rendered)


def parse_expression(text: str) -> Expression | None:
    """Compile `text` if it is an expression; None for a literal string.

    Raises:
        WorkflowError: The jq filter or Liquid template does not compile.
    """
    stripped = text.strip()
    if not stripped.endswith("}"):
        return None
    if stripped.startswith("$${"):
        return LiquidExpression(text, stripped[3:-1])
    if stripped.startswith("${"):
        return JqExpression(text, stripped[2:-1])
    return None


class Template:
    """A document value in which strings may be expressions; evaluates to plain JSON data."""

    __slots__ = ("_compiled", "literal")

    def __init__(self, raw: Any) -> None:
        self._compiled = _compile_value(raw)
        self.literal = not _has_expression(self._compiled)

    def evaluate(self, value: Any, variables: Variables, *, structured: bool = False) -> Any:
        """Evaluate every expression inside on `value`.

        A template without expressions returns its literal value itself,
        so callers must not modify the result in place.
        """
        return _evaluate(self._compiled, value, variables, structured)


def is_truthy(value: Any) -> bool:
    """Return whether a value counts as true in `if`, `when`, `while` and `exceptWhen`.

    False, null, zero, and empty strings, arrays and objects are false.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def coerce_rendered(text: str) -> Any:
    """Coerce a Liquid rendering: integer or decimal number, `true`/`false`, else the text."""
    if _INTEGER.match(text):
        return int(text)
    if _DECIMAL.match(text):
        number = float(text)
        return number if math.isfinite(number) else text
    if text == "true":
        return True
    if text == "false":
        return False
    return text


# Compiled values: an Expression, a _Literal, or dicts/lists of compiled values.


class _Literal:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _compile_value(raw: Any) -> Any:
    if isinstance(raw, str):
        expression = parse_expression(raw)
        return expression if expression is not None else _Literal(raw)
    if isinstance(raw, dict):
        items = {key: _compile_value(item) for key, item in raw.items()}
        if not any(_has_expression(item) for item in items.values()):
            return _Literal(raw)
        return items
    if isinstance(raw, list):
        elements = [_compile_value(item) for item in raw]
        if not any(_has_expression(item) for item in elements):
            return _Literal(raw)
        return elements
    return _Literal(raw)


def _has_expression(compiled: Any) -> bool:
    return not isinstance(compiled, _Literal)


def _evaluate(compiled: Any, value: Any, variables: Variables, structured: bool) -> Any:
    if isinstance(compiled, _Literal):
        return compiled.value
    if isinstance(compiled, Expression):
        return compiled.evaluate(value, variables, structured=structured)
    if isinstance(compiled, dict):
        return {key: _evaluate(item, value, variables, False) for key, item in compiled.items()}
    return [_evaluate(item, value, variables, False) for item in compiled]


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_jq(body: str) -> tuple[Any, tuple[str, ...]]:
    names = sorted(
        {name for name in _JQ_VARIABLE.findall(body) if name not in _JQ_SPECIAL_VARIABLES} | {"ENV"}
    )
    binding = ", ".join(f"${name}" for name in names)
    # The body goes on its own lines so that a trailing `# comment` in it
    # cannot swallow the closing parenthesis.
    program_text = f"{_JQ_PRELUDE}.[1] as {{{binding}}} | .[0] | (\n{body}\n)"
    try:
        program = jq.compile(program_text)
    except ValueError as error:
        raise expression_error(
            f"jq filter {body.strip()!r} does not compile: {_jq_message(error)}"
        ) from None
    return program, tuple(names)


def _jq_message(error: ValueError) -> str:
    """Return the first line of a jq error without its `jq: error …:` prefix."""
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    first_line = re.sub(r"^jq: error(?: \(at [^)]*\))?: ", "", first_line)
    # Positions refer to the wrapped program, not to the user's text.
    return re.sub(r" at <top-level>, line \d+, column \d+:?$", "", first_line)


class _LiquidEnvironment(Environment):
    """Liquid with the json filters, strict undefined variables and resource limits.

    An undefined variable is an error when output, so a typo does not
    silently render as empty text. In `if` and `unless` it is false.
    """

    loop_iteration_limit = 1_000_000
    output_stream_limit = 16 * 1024 * 1024
    context_depth_limit = 30


@functools.cache
def _liquid_environment() -> Environment:
    environment = _LiquidEnvironment(undefined=FalsyStrictUndefined)
    environment.filters["json_encode"] = _json_encode
    environment.filters["json_decode"] = _json_decode
    return environment


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile_liquid(body: str) -> Any:
    try:
        return _liquid_environment().from_string(body)
    except LiquidError as error:
        raise expression_error(
            f"Liquid template {_shorten(body)!r} does not compile: {_liquid_message(error)}"
        ) from None


def _json_encode(value: object) -> str:
    """Liquid filter: the value as compact JSON text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _json_decode(value: object) -> Any:
    """Liquid filter: parse JSON text into a value."""
    try:
        return json.loads(str(value))
    except json.JSONDecodeError as error:
        raise FilterValueError(f"json_decode: invalid JSON ({error.msg})", token=None) from None


def _liquid_message(error: LiquidError) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _parse_json_structure(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        parsed = json.loads(stripped)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def _shorten(text: str, limit: int = 80) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
