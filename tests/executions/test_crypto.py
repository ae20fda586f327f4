"""Encryption at rest: round trips, key rotation, and a removed key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from executions.crypto import DecryptionFailed, decrypt_json, encrypt_json, reencrypt


@pytest.fixture
def old_key(settings) -> str:
    key = Fernet.generate_key().decode()
    settings.PRSM_ENCRYPTION_KEYS = [key]
    return key


@pytest.mark.parametrize(
    "value",
    [{"api_key": "sk-123", "nested": [1, 2.5, None, True]}, "text", 42, [], None, "ünïcödé ✓"],
)
def test_json_values_round_trip(old_key, value):
    token = encrypt_json(value)
    assert isinstance(token, str)
    assert decrypt_json(token) == value


def test_the_token_does_not_contain_the_plain_text(old_key):
    token = encrypt_json({"api_key": "sk-very-secret"})
    assert "sk-very-secret" not in token
    assert encrypt_json("same") != encrypt_json("same")  # random IV each time


def test_a_token_of_an_old_key_still_decrypts_after_a_new_key_is_put_first(settings, old_key):
    token = encrypt_json({"a": 1})
    new_key = Fernet.generate_key().decode()
    settings.PRSM_ENCRYPTION_KEYS = [new_key, old_key]

    assert decrypt_json(token) == {"a": 1}
    # New values are encrypted with the new key only.
    fresh = encrypt_json({"b": 2})
    settings.PRSM_ENCRYPTION_KEYS = [new_key]
    assert decrypt_json(fresh) == {"b": 2}


def test_reencrypt_moves_a_token_to_the_newest_key(settings, old_key):
    token = encrypt_json(["x"])
    new_key = Fernet.generate_key().decode()
    settings.PRSM_ENCRYPTION_KEYS = [new_key, old_key]

    rotated = reencrypt(token)

    settings.PRSM_ENCRYPTION_KEYS = [new_key]
    assert decrypt_json(rotated) == ["x"]
    with pytest.raises(DecryptionFailed):
        decrypt_json(token)


def test_removing_the_key_makes_decryption_fail_with_a_clear_message(settings, old_key):
    token = encrypt_json("secret")
    settings.PRSM_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(DecryptionFailed, match=r"key .* was probably removed"):
        decrypt_json(token)
    with pytest.raises(DecryptionFailed):
        reencrypt(token)


@pytest.mark.parametrize("token", ["", "not-a-token", "ünicode"])
def test_garbage_is_a_decryption_failure(old_key, token):
    with pytest.raises(DecryptionFailed):
        decrypt_json(token)
