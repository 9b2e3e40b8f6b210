"""Tests of jwp.schema with the runner schema files that the server publishes."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jwp.proto.jobworkerp.runner import command_args_pb2, grpc_unary_result_pb2
from jwp.schema import (
    SchemaError,
    compile_first_message,
    decode_message,
    json_to_message_bytes,
    message_bytes_to_dict,
)

RUNNER_PROTO_ROOT = Path(__file__).resolve().parent.parent / "proto" / "jobworkerp" / "runner"


def runner_proto(file_name: str) -> str:
    return (RUNNER_PROTO_ROOT / file_name).read_text()


COMMAND_ARGS = runner_proto("command_args.proto")
CHAT_ARGS = runner_proto("llm/chat_args.proto")


def raises_schema_error(proto_text: str, json_text: str, *, label: str = "value") -> str:
    with pytest.raises(SchemaError) as caught:
        json_to_message_bytes(proto_text, json_text, label=label)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- compile_first_message -------------------------------------------------


def test_compile_returns_first_top_level_message() -> None:
    message_class = compile_first_message(runner_proto("http_request_result.proto"))

    assert message_class is not None
    assert message_class.DESCRIPTOR.full_name == "jobworkerp.runner.HttpResponseResult"


def test_compile_empty_text_means_no_schema() -> None:
    assert compile_first_message("") is None
    assert compile_first_message("  \n\t") is None


def test_compile_cache_hit() -> None:
    text = runner_proto("slack_result.proto")
    first = compile_first_message(text)
    hits_before = compile_first_message.cache_info().hits

    second = compile_first_message(text)

    assert second is first
    assert compile_first_message.cache_info().hits == hits_before + 1


def test_compile_same_names_do_not_clash() -> None:
    numbers = 'syntax = "proto3";\npackage demo;\nmessage Value { int32 number = 1; }\n'
    words = 'syntax = "proto3";\npackage demo;\nmessage Value { string word = 1; }\n'

    number_class = compile_first_message(numbers)
    word_class = compile_first_message(words)

    assert number_class is not None
    assert word_class is not None
    assert number_class is not word_class
    assert json_to_message_bytes(numbers, '{"number": 5}') == b"\x08\x05"
    assert json_to_message_bytes(words, '{"word": "a"}') == b"\x0a\x01a"


def test_compile_same_names_as_generated_modules() -> None:
    # jwp.proto's CommandArgs is in the default pool, and the schema's own
    # pool contains a second, independent copy.
    message_class = compile_first_message(COMMAND_ARGS)

    assert message_class is not None
    assert message_class is not command_args_pb2.CommandArgs
    assert message_class.DESCRIPTOR.full_name == command_args_pb2.CommandArgs.DESCRIPTOR.full_name


def test_compile_from_many_threads() -> None:
    texts = [
        f'syntax = "proto3";\npackage threads;\nmessage M{index} {{ int32 field_{index} = 1; }}\n'
        for index in range(16)
    ]

    with ThreadPoolExecutor(max_workers=8) as executor:
        classes = list(executor.map(compile_first_message, texts))

    names = [message_class.DESCRIPTOR.full_name for message_class in classes if message_class]
    assert names == [f"threads.M{index}" for index in range(16)]


def test_compile_bad_proto_text() -> None:
    text = 'syntax = "proto3";\nmessage Broken { strng name = 1; }\n'

    with pytest.raises(SchemaError) as caught:
        compile_first_message(text)

    assert "invalid proto text" in str(caught.value)
    assert '"strng" is not defined' in str(caught.value)
    assert ":2:" in str(caught.value)


def test_compile_missing_import() -> None:
    text = 'syntax = "proto3";\nimport "other.proto";\nmessage A { int32 x = 1; }\n'

    with pytest.raises(SchemaError, match=r"other\.proto"):
        compile_first_message(text)


def test_compile_text_without_message() -> None:
    with pytest.raises(SchemaError, match="declares no message"):
        compile_first_message('syntax = "proto3";\nenum Color { RED = 0; }\n')


def test_compile_well_known_type_import() -> None:
    text = (
        'syntax = "proto3";\n'
        'import "google/protobuf/timestamp.proto";\n'
        "message Event { google.protobuf.Timestamp at = 1; }\n"
    )

    data = json_to_message_bytes(text, '{"at": "2025-06-11T00:00:00Z"}')

    assert message_bytes_to_dict(text, data) == {"at": "2025-06-11T00:00:00Z"}


def test_compile_proto3_optional() -> None:
    text = runner_proto("command_result.proto")

    data = json_to_message_bytes(text, '{"exitCode": 0}')

    # An explicitly set optional field is encoded even when it is zero.
    assert data == b"\x08\x00"
    assert message_bytes_to_dict(text, data) == {"exit_code": 0}


# --- json_to_message_bytes -------------------------------------------------


def test_json_round_trip_command_args() -> None:
    json_text = '{"command": "ls", "args": ["-l", "/tmp"], "withMemoryMonitoring": true}'

    data = json_to_message_bytes(COMMAND_ARGS, json_text)

    decoded = command_args_pb2.CommandArgs.FromString(data)
    assert decoded.command == "ls"
    assert list(decoded.args) == ["-l", "/tmp"]
    assert decoded.with_memory_monitoring is True
    assert message_bytes_to_dict(COMMAND_ARGS, data) == {
        "command": "ls",
        "args": ["-l", "/tmp"],
        "with_memory_monitoring": True,
    }


def test_json_accepts_snake_case_names() -> None:
    camel = json_to_message_bytes(COMMAND_ARGS, '{"command": "ls", "withMemoryMonitoring": true}')
    snake = json_to_message_bytes(COMMAND_ARGS, '{"command": "ls", "with_memory_monitoring": true}')

    assert camel == snake


def test_json_empty_text_is_default_message() -> None:
    assert json_to_message_bytes(COMMAND_ARGS, "") == b""
    assert json_to_message_bytes(COMMAND_ARGS, "  \n") == b""
    assert json_to_message_bytes(COMMAND_ARGS, "{}") == b""


def test_json_without_schema_is_raw_text() -> None:
    assert json_to_message_bytes("", '{"any": "thing"}') == b'{"any": "thing"}'
    assert json_to_message_bytes("", "not json") == b"not json"
    assert json_to_message_bytes("", "") == b""


def test_json_unknown_field_rejected() -> None:
    message = raises_schema_error(COMMAND_ARGS, '{"comand": "ls"}', label="args")

    assert message == 'invalid args for jobworkerp.runner.CommandArgs: unknown field "comand"'


def test_json_unknown_nested_field_path() -> None:
    json_text = '{"messages": [{"role": "ROLE_USER", "content": {"txt": "hi"}}]}'

    message = raises_schema_error(CHAT_ARGS, json_text)

    assert message == (
        "invalid value for jobworkerp.runner.llm.LLMChatArgs: "
        'unknown field "messages[0].content.txt"'
    )


def test_json_unknown_field_ignored_on_request() -> None:
    data = json_to_message_bytes(
        COMMAND_ARGS, '{"command": "ls", "extra": 1}', ignore_unknown_fields=True
    )

    assert command_args_pb2.CommandArgs.FromString(data).command == "ls"


def test_json_enum_by_name_and_number() -> None:
    by_name = json_to_message_bytes(CHAT_ARGS, '{"messages": [{"role": "ROLE_ASSISTANT"}]}')
    by_number = json_to_message_bytes(CHAT_ARGS, '{"messages": [{"role": 3}]}')

    assert by_name == by_number
    assert message_bytes_to_dict(CHAT_ARGS, by_name) == {"messages": [{"role": "ROLE_ASSISTANT"}]}


def test_json_unknown_enum_name() -> None:
    message = raises_schema_error(CHAT_ARGS, '{"messages": [{"role": "ROLE_BOSS"}]}')

    assert "ROLE_BOSS" in message
    assert "role" in message


def test_json_int64_as_string() -> None:
    text = runner_proto("grpc_unary_args.proto")

    from_string = json_to_message_bytes(text, '{"timeout": "9007199254740993"}')
    from_number = json_to_message_bytes(text, '{"timeout": 9007199254740993}')

    assert from_string == from_number
    # MessageToDict writes 64-bit integers as strings, as proto3 JSON does.
    assert message_bytes_to_dict(text, from_string) == {"timeout": "9007199254740993"}


def test_json_bytes_as_base64() -> None:
    text = runner_proto("grpc_unary_result.proto")
    body = b"\x00\x01binary\xff"

    data = json_to_message_bytes(text, f'{{"body": "{base64.b64encode(body).decode()}"}}')

    assert grpc_unary_result_pb2.GrpcUnaryResult.FromString(data).body == body
    assert message_bytes_to_dict(text, data) == {"body": base64.b64encode(body).decode()}


def test_json_oneof_and_map_fields() -> None:
    text = runner_proto("python_command_args.proto")
    json_text = '{"envVars": {"A": "1"}, "scriptContent": "print(1)", "data_url": "http://x/y"}'

    data = json_to_message_bytes(text, json_text)

    assert message_bytes_to_dict(text, data) == {
        "env_vars": {"A": "1"},
        "script_content": "print(1)",
        "data_url": "http://x/y",
    }


def test_json_two_members_of_one_oneof() -> None:
    text = runner_proto("python_command_args.proto")

    message = raises_schema_error(text, '{"scriptContent": "a", "scriptUrl": "b"}')

    assert '"script"' in message


def test_json_wrong_value_type_names_field() -> None:
    message = raises_schema_error(COMMAND_ARGS, '{"withMemoryMonitoring": "yes"}')

    assert message.startswith("invalid value for jobworkerp.runner.CommandArgs: ")
    assert "withMemoryMonitoring" in message


def test_json_syntax_error_position() -> None:
    message = raises_schema_error(COMMAND_ARGS, '{"command": "ls",\n "args": [}')

    assert message.startswith(
        "invalid value for jobworkerp.runner.CommandArgs: JSON syntax error at line 2 column 11: "
    )


def test_json_trailing_garbage() -> None:
    message = raises_schema_error(COMMAND_ARGS, '{"command": "ls"} extra')

    assert "JSON syntax error at line 1 column 19: Extra data" in message


@pytest.mark.parametrize(
    ("json_text", "kind"),
    [("[1]", "an array"), ('"ls"', "a string"), ("5", "a number"), ("null", "null")],
)
def test_json_not_an_object(json_text: str, kind: str) -> None:
    message = raises_schema_error(COMMAND_ARGS, json_text)

    assert message.endswith(f"expected a JSON object, got {kind}")


def test_json_duplicate_key() -> None:
    message = raises_schema_error(COMMAND_ARGS, '{"command": "a", "command": "b"}')

    assert message.endswith('duplicate key "command"')


def test_json_bad_proto_text() -> None:
    with pytest.raises(SchemaError, match="invalid proto text"):
        json_to_message_bytes("message {", "{}")


# --- decode_message and message_bytes_to_dict ------------------------------


def test_decode_generated_bytes() -> None:
    data = command_args_pb2.CommandArgs(command="echo", args=["hi"]).SerializeToString()

    decoded = decode_message(COMMAND_ARGS, data)

    assert decoded is not None
    assert decoded.DESCRIPTOR.full_name == "jobworkerp.runner.CommandArgs"
    assert decoded.SerializeToString() == data
    assert message_bytes_to_dict(COMMAND_ARGS, data) == {"command": "echo", "args": ["hi"]}


def test_decode_bad_bytes() -> None:
    with pytest.raises(SchemaError) as caught:
        decode_message(COMMAND_ARGS, b"\xff\xff\xff", label="args")

    assert str(caught.value).startswith("invalid args for jobworkerp.runner.CommandArgs: ")
    assert "3 bytes" in str(caught.value)


def test_decode_invalid_utf8_in_string_field() -> None:
    # Field 1 (command), length 1, a lone continuation byte.
    with pytest.raises(SchemaError):
        decode_message(COMMAND_ARGS, b"\x0a\x01\x80")


def test_decode_without_schema() -> None:
    assert decode_message("", b"\xff anything") is None


def test_dict_without_schema_is_lossy_text() -> None:
    assert message_bytes_to_dict("", b"ok \xff") == "ok \ufffd"


def test_dict_omits_default_values() -> None:
    data = json_to_message_bytes(COMMAND_ARGS, '{"command": "ls", "withMemoryMonitoring": false}')

    assert message_bytes_to_dict(COMMAND_ARGS, data) == {"command": "ls"}


def test_dict_bad_bytes() -> None:
    with pytest.raises(SchemaError):
        message_bytes_to_dict(COMMAND_ARGS, b"\xff\xff\xff")


@pytest.mark.parametrize(
    "file_name",
    sorted(
        path.relative_to(RUNNER_PROTO_ROOT).as_posix()
        for path in RUNNER_PROTO_ROOT.rglob("*.proto")
    ),
)
def test_every_runner_schema_compiles_alone(file_name: str) -> None:
    message_class = compile_first_message(runner_proto(file_name))

    assert message_class is not None
    assert json_to_message_bytes(runner_proto(file_name), "{}") == b""
