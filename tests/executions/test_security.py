"""Secret inputs, redaction (values and log records) and security_config."""

from __future__ import annotations

import io
import json
import logging
import threading
from typing import Any

import pytest

from executions.models import Execution, ExecutionStatus, StepRun
from executions.security import (
    REDACTED,
    RedactingFilter,
    Redactor,
    SecretInputError,
    SecurityConfigError,
    decrypt_secrets,
    encrypt_secrets,
    open_result,
    redaction_scope,
    seal_result,
    secure_delete_execution_data,
    split_inputs,
    validate_security_config,
)
from workflows.models import Workflow

PLACEHOLDER = {"type": "secret", "redacted": True}

# --------------------------------------------------------------------------- split_inputs


def test_secret_and_encrypted_wrappers_become_secrets_with_a_placeholder():
    split = split_inputs(
        {
            "api_key": {"type": "secret", "value": "sk-abc123"},
            "user_data": {"type": "encrypted", "value": "gAAAA-opaque"},
            "text": "hello",
        }
    )

    assert split.secrets == {"api_key": "sk-abc123", "user_data": "gAAAA-opaque"}
    assert split.secret_names == ["api_key", "user_data"]
    assert split.plain == {"api_key": PLACEHOLDER, "user_data": PLACEHOLDER, "text": "hello"}
    assert "sk-abc123" not in json.dumps(split.plain)


def test_inputs_the_schema_declares_secret_are_secrets_even_as_plain_strings():
    schema: dict[str, Any] = {
        "token": {"type": "string", "secret": True},
        "password": {"type": "secret"},
        "text": {"type": "string"},
    }
    split = split_inputs(
        {"token": "t-1234", "password": "hunter22", "text": "x"}, input_schema=schema
    )

    assert split.secrets == {"token": "t-1234", "password": "hunter22"}
    assert split.plain == {"token": PLACEHOLDER, "password": PLACEHOLDER, "text": "x"}


def test_a_non_string_secret_value_is_kept_as_its_json_text():
    split = split_inputs({"creds": {"type": "secret", "value": {"user": "u", "pw": "p"}}})
    assert json.loads(split.secrets["creds"]) == {"user": "u", "pw": "p"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"type": "secret"}, "needs a 'value'"),
        ({"type": "secret", "value": None}, "cannot be null"),
        ({"type": "secret", "value": "x", "note": "n"}, "unexpected key"),
        (PLACEHOLDER, "placeholder of a redacted secret"),
    ],
)
def test_malformed_secret_inputs_are_refused_naming_the_input(value, message):
    with pytest.raises(SecretInputError, match=message) as caught:
        split_inputs({"api_key": value})
    assert caught.value.field == "inputs.api_key"


# --------------------------------------------------------------------------- Redactor


def test_redactor_replaces_secrets_in_nested_values_keys_and_substrings():
    redactor = Redactor(["sk-abc123", "hunter22"])
    value = {
        "headers": {"Authorization": "Bearer sk-abc123"},
        "sk-abc123": ["ok", "hunter22", ("nested", "pw=hunter22;")],
        "count": 3,
        "flag": True,
    }

    assert redactor.redact(value) == {
        "headers": {"Authorization": f"Bearer {REDACTED}"},
        REDACTED: ["ok", REDACTED, ["nested", f"pw={REDACTED};"]],
        "count": 3,
        "flag": True,
    }


def test_short_secrets_are_redacted_only_as_whole_strings():
    redactor = Redactor(["abc"])
    assert redactor.redact(["abc", "abcdef", "the abc"]) == [REDACTED, "abcdef", "the abc"]


def test_a_secret_containing_another_is_redacted_whole():
    redactor = Redactor(["pass", "password123"])
    assert redactor.redact("x=password123") == f"x={REDACTED}"


def test_a_secret_is_caught_in_its_json_escaped_form():
    secret = 'a"quoted\\secret'
    serialized = json.dumps({"k": secret})
    assert secret not in serialized
    assert Redactor([secret]).redact(serialized) == f'{{"k": "{REDACTED}"}}'


def test_numbers_that_contain_a_secret_are_redacted():
    assert Redactor(["123456"]).redact([123456, 99123456, 7]) == [REDACTED, REDACTED, 7]


def test_an_empty_redactor_returns_values_unchanged():
    value = {"a": ["b"]}
    assert Redactor([]).redact(value) is value


# --------------------------------------------------------------------------- logging filter


@pytest.fixture
def log_output():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_log_records_are_redacted_while_the_scope_is_active(log_output):
    logger, stream = log_output
    with redaction_scope(["sk-abc123"]):
        logger.info("calling with %s and %d", "key=sk-abc123", 1)
        logger.info("msg itself has sk-abc123")
        logger.info("mapping %(k)s", {"k": "sk-abc123"})
    logger.info("after sk-abc123")

    lines = stream.getvalue().splitlines()
    assert lines[0] == f"calling with key={REDACTED} and 1"
    assert lines[1] == f"msg itself has {REDACTED}"
    assert lines[2] == f"mapping {REDACTED}"
    assert lines[3] == "after sk-abc123"  # the scope ended: nothing registered


def test_exception_text_in_a_log_record_is_redacted(log_output):
    logger, stream = log_output
    with redaction_scope(["sk-abc123"]):
        try:
            raise RuntimeError("bad key sk-abc123")
        except RuntimeError:
            logger.exception("failed")
    assert "sk-abc123" not in stream.getvalue()
    assert f"RuntimeError: bad key {REDACTED}" in stream.getvalue()


def test_records_from_other_threads_are_redacted_and_overlapping_scopes_are_counted(log_output):
    logger, stream = log_output
    inner_entered, outer_done = threading.Event(), threading.Event()

    def other_step() -> None:
        with redaction_scope(["shared-secret"]):
            inner_entered.set()
            outer_done.wait(5)
            logger.info("thread sees shared-secret")

    with redaction_scope(["shared-secret"]):
        thread = threading.Thread(target=other_step)
        thread.start()
        inner_entered.wait(5)
    # The main scope ended, the thread's is still active: still redacted.
    logger.info("main sees shared-secret")
    outer_done.set()
    thread.join(5)
    logger.info("nobody holds shared-secret")

    assert stream.getvalue().splitlines() == [
        f"main sees {REDACTED}",
        f"thread sees {REDACTED}",
        "nobody holds shared-secret",
    ]


def test_redaction_scope_yields_a_redactor_for_its_values():
    with redaction_scope(["abcd-1234"]) as redactor:
        assert redactor.redact({"r": "x abcd-1234"}) == {"r": f"x {REDACTED}"}


# --------------------------------------------------------------------------- security_config


def test_security_config_defaults_every_flag_to_false():
    expected = {
        "encrypt_intermediate_results": False,
        "audit_logging": False,
        "secure_deletion": False,
    }
    assert validate_security_config(None) == expected
    assert validate_security_config({}) == expected
    assert validate_security_config({"audit_logging": True})["audit_logging"] is True


@pytest.mark.parametrize(
    ("cfg", "field"),
    [
        ({"encrypt_everything": True}, "security_config.encrypt_everything"),
        ({"secure_deletion": "yes"}, "security_config.secure_deletion"),
        ({"audit_logging": 1}, "security_config.audit_logging"),
        (["audit_logging"], "security_config"),
    ],
)
def test_bad_security_config_names_the_key(cfg, field):
    with pytest.raises(SecurityConfigError) as caught:
        validate_security_config(cfg)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)


def test_a_sealed_result_hides_the_value_and_opens_again():
    value = {"summary": "confidential findings", "n": [1, 2]}
    sealed = seal_result(value)

    assert list(sealed) == ["__sealed__"]
    assert "confidential" not in json.dumps(sealed)
    assert open_result(json.loads(json.dumps(sealed))) == value


@pytest.mark.parametrize("stored", [None, "text", {"a": 1}, [1], {"__sealed__": 1}])
def test_open_result_passes_unsealed_values_through(stored):
    assert open_result(stored) == stored


def test_secrets_round_trip_through_their_encrypted_column():
    assert encrypt_secrets({}) == ""
    assert decrypt_secrets("") == {}
    token = encrypt_secrets({"api_key": "sk-1"})
    assert "sk-1" not in token
    assert decrypt_secrets(token) == {"api_key": "sk-1"}


# --------------------------------------------------------------------------- secure deletion


def _execution(alice, workflow_id: str, **fields: Any) -> Execution:
    wf = Workflow.objects.get(public_id=workflow_id)
    return Execution.objects.create(
        workflow=wf,
        version=wf.published_version(),
        definition=wf.published_version().definition,
        created_by=alice,
        **fields,
    )


def test_secure_deletion_blanks_secrets_and_inputs_and_seals_results(alice, alice_workflow):
    execution = _execution(
        alice,
        alice_workflow,
        status=ExecutionStatus.COMPLETED,
        inputs={"api_key": PLACEHOLDER},
        secrets_encrypted=encrypt_secrets({"api_key": "sk-abc123"}),
        final_result={"summary": "done"},
    )
    plain = StepRun.objects.create(
        execution=execution,
        key="clean",
        step_id="clean",
        input={"text": "raw"},
        result="clean text",
    )
    already = seal_result({"s": 1})
    sealed = StepRun.objects.create(
        execution=execution, key="summary", step_id="summary", input="x", result=already
    )

    counts = secure_delete_execution_data(execution)

    execution.refresh_from_db()
    plain.refresh_from_db()
    sealed.refresh_from_db()
    assert counts == {"inputs_cleared": 2, "results_sealed": 1}
    assert execution.secrets_encrypted == ""
    assert execution.inputs == {"api_key": PLACEHOLDER}
    assert execution.final_result == {"summary": "done"}
    assert plain.input is None and sealed.input is None
    assert "clean text" not in json.dumps(plain.result)
    assert open_result(plain.result) == "clean text"
    assert sealed.result == already


def test_secure_deletion_waits_until_the_execution_ends(alice, alice_workflow):
    execution = _execution(
        alice,
        alice_workflow,
        status=ExecutionStatus.RUNNING,
        secrets_encrypted=encrypt_secrets({"k": "v"}),
    )
    with pytest.raises(ValueError, match="running"):
        secure_delete_execution_data(execution)
    execution.refresh_from_db()
    assert execution.secrets_encrypted
