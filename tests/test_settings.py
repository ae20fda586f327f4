"""Settings helpers fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from prsm_site.env import env_bool, env_float, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_env_bool_rejects_non_booleans(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("PRSM_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="PRSM_TEST_FLAG"):
        env_bool("PRSM_TEST_FLAG", False)


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("off", False), ("TRUE", True)])
def test_env_bool_reads_booleans(monkeypatch: pytest.MonkeyPatch, raw: str, value: bool) -> None:
    monkeypatch.setenv("PRSM_TEST_FLAG", raw)
    assert env_bool("PRSM_TEST_FLAG", not value) is value


def test_env_int_rejects_text_and_too_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRSM_TEST_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("PRSM_TEST_N", 1)
    monkeypatch.setenv("PRSM_TEST_N", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("PRSM_TEST_N", 1, minimum=0)


@pytest.mark.parametrize("raw", ["soon", "nan", "inf", "-0.5"])
def test_env_float_rejects_text_infinities_and_too_small(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("PRSM_TEST_F", raw)
    with pytest.raises(ImproperlyConfigured, match="PRSM_TEST_F"):
        env_float("PRSM_TEST_F", 1.0, minimum=0)


def test_env_float_reads_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRSM_TEST_F", " 0.25 ")
    assert env_float("PRSM_TEST_F", 1.0, minimum=0) == 0.25
    monkeypatch.setenv("PRSM_TEST_F", "")
    assert env_float("PRSM_TEST_F", 1.5) == 1.5


def test_env_list_splits_and_strips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRSM_TEST_L", " a.org, b.org ,,")
    assert env_list("PRSM_TEST_L", []) == ["a.org", "b.org"]


def _check(env: dict[str, str], tmp_path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", *(command or ["check"])],
        cwd=ROOT,
        env={**base, "PRSM_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    result = _check({"DEBUG": "0"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_bad_encryption_key_refuses_to_start(tmp_path: Path) -> None:
    result = _check({"PRSM_ENCRYPTION_KEYS": "not-a-key"}, tmp_path)
    assert result.returncode != 0
    assert "PRSM_ENCRYPTION_KEYS" in result.stderr


def test_bad_boolean_names_the_variable(tmp_path: Path) -> None:
    result = _check({"DEBUG": "perhaps"}, tmp_path)
    assert result.returncode != 0
    assert "DEBUG='perhaps'" in result.stderr


def test_production_on_the_embedded_stack_creates_its_var_directory(tmp_path: Path) -> None:
    """With ``DEBUG=0`` and no DATABASE_URL, the first command opens the SQLite file
    in a ``PRSM_VAR_DIR`` that does not exist yet (it used to fail with "unable to
    open database file")."""
    from cryptography.fernet import Fernet

    var = tmp_path / "not" / "yet"
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "k" * 50,
        "PRSM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PRSM_VAR_DIR": str(var),
    }
    result = _check(production, tmp_path, "migrate", "--plan")
    assert result.returncode == 0, result.stderr
    assert var.is_dir()


def test_a_base_url_that_is_not_http_refuses_to_start(tmp_path: Path) -> None:
    result = _check({"PRSM_OPENAI_BASE_URL": "api.openai.com/v1"}, tmp_path)
    assert result.returncode != 0
    assert "PRSM_OPENAI_BASE_URL must be an http:// or https:// URL" in result.stderr


@pytest.mark.django_db
def test_postgresql_ends_a_session_left_idle_inside_a_transaction() -> None:
    """A worker host cut off mid-change must not hold the execution row lock for the
    minutes its TCP connection takes to time out (tests/reliability/test_multihost.py)."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        assert "options" not in settings.DATABASES["default"].get("OPTIONS", {})
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "1min"  # PRSM_DB_IDLE_IN_TRANSACTION_SECONDS' default


@pytest.mark.parametrize(
    ("redis_url", "broker"),
    [
        ("unix:///run/redis/redis.sock", "redis+socket:///run/redis/redis.sock"),
        ("redis://cache:6379/2", "redis://cache:6379/2"),
    ],
)
def test_a_redis_socket_url_names_the_same_socket_for_the_broker(
    tmp_path: Path, redis_url: str, broker: str
) -> None:
    result = _check(
        {"REDIS_URL": redis_url},
        tmp_path,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [broker, redis_url]
