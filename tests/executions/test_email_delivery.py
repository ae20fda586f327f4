"""Notification email over real SMTP (issue 13, item 9).

A real run on the real worker; its notification task runs in a second worker whose
only configuration of mail is ``EMAIL_URL`` and ``DEFAULT_FROM_EMAIL``, and it delivers
to a local aiosmtpd server that requires the URL's credentials.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import client_for
from tests.engine import Worker, child_env, wait_for
from tests.executions.helpers import wait_terminal

# The local server asks for a password over plain SMTP, which aiosmtpd rightly warns of.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Mailbox:
    """What the SMTP server accepted, and who signed in to send it."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"prsm",
            b"s3cret pw",
        )
        if ok:
            self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        auth_required=True,
        auth_require_tls=False,  # a local test server; production uses smtp+tls://
    )
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def mail_worker(smtp_server: tuple[Mailbox, int], worker: Any) -> Iterator[Worker]:
    """A worker for the notifications queue, configured by EMAIL_URL alone."""
    _, port = smtp_server
    mailer = Worker(
        concurrency=1,
        queues="notifications",
        extra_env={
            "EMAIL_URL": f"smtp://prsm:s3cret%20pw@127.0.0.1:{port}",
            "DEFAULT_FROM_EMAIL": "PRSM Lab <runs@lab.example>",
        },
    )
    yield mailer
    mailer.stop()


def test_a_finished_run_emails_its_starter_over_smtp(
    smtp_server: tuple[Mailbox, int], mail_worker: Worker, alice: Any, simple_definition: Any
) -> None:
    mailbox, _ = smtp_server
    alice.email = "alice@lab.example"
    alice.save()
    api = client_for(alice)
    workflow_id = api.post("/api/v1/workflows", simple_definition, format="json").json()["id"]

    started = api.post(
        f"/api/v1/workflows/{workflow_id}/execute",
        {"inputs": {"text": "Hello there."}, "notification_config": {"on_completion": ["email"]}},
        format="json",
    )
    assert started.status_code == 201, started.content
    execution_id = started.json()["execution_id"]
    assert wait_terminal(execution_id).status == "completed"

    wait_for(
        lambda: mailbox.messages,
        timeout=60,
        message=f"the notification email; mail worker log:\n{mail_worker.log()[-3000:]}",
    )
    (envelope,) = mailbox.messages
    message = message_from_bytes(envelope.original_content)
    assert envelope.rcpt_tos == ["alice@lab.example"]
    assert envelope.mail_from == "runs@lab.example"
    assert message["From"] == "PRSM Lab <runs@lab.example>"
    assert message["Subject"] == "[PRSM] Simple: execution completed"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert f"Execution: {execution_id}" in payload.decode()
    assert mailbox.logins == [(b"prsm", b"s3cret pw")]


def test_the_seeds_notification_config_is_accepted_for_a_user_with_an_address(
    alice: Any, alice_workflow: str
) -> None:
    alice.email = "alice@lab.example"
    alice.save()
    response = client_for(alice).post(
        f"/api/v1/workflows/{alice_workflow}/execute",
        {
            "inputs": {"text": "Hello."},
            "notification_config": {
                "on_completion": ["email", "webhook"],
                "on_failure": ["email"],
                "webhook_url": "https://your-app.com/webhook",
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def test_email_for_a_user_without_an_address_is_a_400_that_says_so(
    alice_api: Any, alice_workflow: str
) -> None:
    response = alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/execute",
        {"inputs": {"text": "Hello."}, "notification_config": {"on_failure": ["email"]}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body["fields"]) == ["notification_config"]
    assert "no email address" in body["message"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp+tls://u:p%40ss@mail.example:587", "mail.example 587 u p@ss True False"),
        ("smtp+ssl://mail.example", "mail.example 465 '' '' False True"),
        ("smtp://mail.example:2525", "mail.example 2525 '' '' False False"),
    ],
)
def test_email_url_sets_the_smtp_settings(url: str, expected: str) -> None:
    code = (
        "from django.conf import settings as s; import shlex;"
        "print(shlex.join([s.EMAIL_HOST, str(s.EMAIL_PORT), s.EMAIL_HOST_USER,"
        " s.EMAIL_HOST_PASSWORD, str(s.EMAIL_USE_TLS), str(s.EMAIL_USE_SSL)]), s.EMAIL_BACKEND)"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=child_env(DJANGO_SETTINGS_MODULE="prsm_site.settings", EMAIL_URL=url),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert " ".join(out[:-1]) == expected
    assert out[-1] == "django.core.mail.backends.smtp.EmailBackend"


def test_an_email_url_of_an_unknown_kind_stops_start_up() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=child_env(DJANGO_SETTINGS_MODULE="prsm_site.settings", EMAIL_URL="gopher://x"),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "EMAIL_URL" in result.stderr
