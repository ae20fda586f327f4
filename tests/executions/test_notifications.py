"""Notifications: the config check, Standard Webhooks signing, delivery with retries
to a real local HTTP server, email, and nothing sent for a rolled-back transaction."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from executions.models import Execution, ExecutionStatus, WebhookDelivery
from executions.notifications import (
    NotificationConfigError,
    notifications_enqueue,
    sign,
    validate_notification_config,
    verify,
    webhook_attempt,
    webhook_deliveries_republish,
    webhook_secret_for,
)
from executions.security import encrypt_secrets
from executions.tasks import deliver_webhook, send_email_notification
from prsm_site.celery import app as celery_app
from workflows.models import Workflow

# --------------------------------------------------------------------------- a receiver


@dataclass
class Receiver:
    """A real HTTP server in a thread that records POSTs and replies as scripted."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    hold: threading.Event | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/prsm"


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.PRSM_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    recv = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            recv.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": body}
            )
            if recv.hold is not None:
                recv.hold.wait(10)
            status = recv.statuses.pop(0) if recv.statuses else 200
            reply = b"nope" if status >= 300 else b"ok"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recv.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield recv
    finally:
        if recv.hold is not None:
            recv.hold.set()
        httpd.shutdown()
        httpd.server_close()


# --------------------------------------------------------------------------- executions


@pytest.fixture
def workflow(alice_workflow: str) -> Workflow:
    return Workflow.objects.get(public_id=alice_workflow)


def make_execution(workflow: Workflow, **fields: Any) -> Execution:
    fields.setdefault("status", ExecutionStatus.COMPLETED)
    fields.setdefault("completed_at", timezone.now())
    return Execution.objects.create(
        workflow=workflow,
        version=workflow.published_version(),
        definition=workflow.published_version().definition,
        created_by=workflow.owner,
        **fields,
    )


def webhook_config(url: str, **extra: Any) -> dict[str, Any]:
    return {"on_completion": ["webhook"], "on_failure": ["webhook"], "webhook_url": url, **extra}


@pytest.fixture
def fast_backoff(settings):
    settings.PRSM_WEBHOOK_BACKOFF_SECONDS = 5
    settings.PRSM_WEBHOOK_MAX_ATTEMPTS = 6


# --------------------------------------------------------------------------- config


def test_the_seeds_notification_config_is_accepted(settings):
    settings.PRSM_OUTBOUND_ALLOWLIST = ["your-app.com"]
    cfg = {
        "on_completion": ["email", "webhook", "email"],
        "on_failure": ["email"],
        "webhook_url": "https://your-app.com/webhook",
    }
    assert validate_notification_config(cfg) == {
        "on_completion": ["email", "webhook"],
        "on_failure": ["email"],
        "webhook_url": "https://your-app.com/webhook",
    }
    assert validate_notification_config(None) == {"on_completion": [], "on_failure": []}


def test_a_webhook_host_that_does_not_resolve_now_is_accepted():
    cfg = validate_notification_config(webhook_config("https://hooks.example.invalid/x"))
    assert cfg["webhook_url"] == "https://hooks.example.invalid/x"


@pytest.mark.parametrize(
    ("cfg", "field", "message"),
    [
        ("email", "notification_config", "must be an object"),
        ({"on_start": ["email"]}, "notification_config.on_start", "unknown setting"),
        ({"on_completion": ["sms"]}, "notification_config.on_completion[0]", "unknown channel"),
        ({"on_failure": "email"}, "notification_config.on_failure", "list of channels"),
        ({"on_completion": ["webhook"]}, "notification_config.webhook_url", "is required"),
        (webhook_config("not a url"), "notification_config.webhook_url", "whitespace"),
        (webhook_config("https://"), "notification_config.webhook_url", "with a host"),
        (webhook_config("ftp://example.com/x"), "notification_config.webhook_url", "http"),
        (webhook_config("http://127.0.0.1:8000/x"), "notification_config.webhook_url", "loopback"),
        (
            webhook_config("http://169.254.169.254/x"),
            "notification_config.webhook_url",
            "link-local",
        ),
        (webhook_config("http://localhost/x"), "notification_config.webhook_url", "loopback"),
        ({"email": "not-an-address"}, "notification_config.email", "not an email address"),
    ],
)
def test_bad_notification_configs_are_refused_naming_the_field(settings, cfg, field, message):
    settings.PRSM_OUTBOUND_ALLOWLIST = []
    with pytest.raises(NotificationConfigError, match=message) as caught:
        validate_notification_config(cfg)
    assert caught.value.field == field


def test_email_without_an_address_to_default_to_is_refused(alice):
    assert not alice.email
    with pytest.raises(NotificationConfigError) as caught:
        validate_notification_config({"on_failure": ["email"]}, user=alice)
    assert caught.value.field == "notification_config.email"
    cfg = validate_notification_config(
        {"on_failure": ["email"], "email": "lab@example.org"}, user=alice
    )
    assert cfg["email"] == "lab@example.org"


# --------------------------------------------------------------------------- signing


def test_signing_matches_the_standard_webhooks_test_vector():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    headers = {
        "Webhook-Id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "Webhook-Timestamp": "1614265330",
        "Webhook-Signature": f"v1,bm90LXRoaXMtb25l {signature}",
    }
    assert verify(secret, headers, body, now=1614265330 + 60)
    assert not verify(secret, headers, body + b" ", now=1614265330)
    assert not verify(
        "whsec_" + base64.b64encode(b"x" * 32).decode(), headers, body, now=1614265330
    )
    assert not verify(secret, headers, body, now=1614265330 + 301)  # replayed later
    assert not verify(secret, {**headers, "Webhook-Signature": ""}, body, now=1614265330)


def test_each_workflow_has_its_own_stable_signing_secret(workflow, alice, settings):
    secret = webhook_secret_for(workflow)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert webhook_secret_for(workflow.public_id) == secret
    assert webhook_secret_for("wf_other") != secret
    settings.PRSM_WEBHOOK_SIGNING_KEY = "another-signing-key"
    assert webhook_secret_for(workflow) != secret


# --------------------------------------------------------------------------- enqueue


def test_a_completed_execution_gets_one_webhook_with_a_secret_free_payload(
    workflow, django_capture_on_commit_callbacks
):
    execution = make_execution(
        workflow,
        notification_config=webhook_config("https://hooks.example.invalid/x"),
        secrets_encrypted=encrypt_secrets({"api_key": "sk-live-123456"}),
        final_result={"summary": "done", "echo": "key was sk-live-123456"},
        total_cost=Decimal("0.012500"),
    )

    with django_capture_on_commit_callbacks() as callbacks:
        deliveries = notifications_enqueue(execution)

    assert len(deliveries) == 1 and len(callbacks) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.public_id.startswith("msg_")
    assert delivery.event == "execution.completed"
    assert delivery.status == WebhookDelivery.Status.PENDING
    payload = json.loads(json.dumps(delivery.payload))
    assert execution.completed_at is not None
    assert payload == {
        "type": "execution.completed",
        "timestamp": payload["timestamp"],
        "data": {
            "execution_id": execution.public_id,
            "workflow_id": workflow.public_id,
            "status": "completed",
            "final_result": {"summary": "done", "echo": "key was [REDACTED]"},
            "total_cost": 0.0125,
            "error": None,
            "completed_at": execution.completed_at.isoformat().replace("+00:00", "Z"),
        },
    }
    assert payload["timestamp"].endswith("Z")
    assert "sk-live-123456" not in json.dumps(payload)


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (ExecutionStatus.FAILED, "execution.failed"),
        (ExecutionStatus.TIMED_OUT, "execution.timed_out"),
        (ExecutionStatus.CANCELLED, "execution.cancelled"),
    ],
)
def test_unsuccessful_endings_notify_the_on_failure_list(
    workflow, django_capture_on_commit_callbacks, status, event
):
    cfg = {
        "on_completion": ["email"],
        "on_failure": ["webhook"],
        "webhook_url": "https://h.invalid/",
    }
    execution = make_execution(
        workflow, status=status, notification_config=cfg, error={"message": "boom"}
    )
    with django_capture_on_commit_callbacks() as callbacks:
        (delivery,) = notifications_enqueue(execution)
    assert len(callbacks) == 1  # the webhook only: email is on_completion
    assert delivery.event == event
    assert delivery.payload["data"]["error"] == {"message": "boom"}


def test_a_completed_execution_does_not_notify_the_on_failure_list(
    workflow, django_capture_on_commit_callbacks
):
    cfg = {
        "on_completion": [],
        "on_failure": ["webhook", "email"],
        "webhook_url": "https://h.invalid/",
    }
    execution = make_execution(workflow, notification_config=cfg)
    with django_capture_on_commit_callbacks() as callbacks:
        assert notifications_enqueue(execution) == []
    assert callbacks == []


def test_enqueueing_twice_creates_one_delivery(workflow, django_capture_on_commit_callbacks):
    execution = make_execution(workflow, notification_config=webhook_config("https://h.invalid/"))
    with django_capture_on_commit_callbacks():
        notifications_enqueue(execution)
        assert notifications_enqueue(execution) == []
    assert WebhookDelivery.objects.count() == 1


def test_an_active_execution_has_nothing_to_notify(workflow):
    execution = make_execution(workflow, status=ExecutionStatus.RUNNING, completed_at=None)
    with pytest.raises(ValueError, match="running"):
        notifications_enqueue(execution)


def test_a_rolled_back_transaction_sends_nothing(
    workflow, receiver, django_capture_on_commit_callbacks
):
    cfg = {**webhook_config(receiver.url), "on_completion": ["webhook", "email"]}
    execution = make_execution(workflow, notification_config=cfg)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notifications_enqueue(execution)
        raise RuntimeError("finalization failed")

    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []
    assert mail.outbox == []


# --------------------------------------------------------------------------- delivery


def _delivery(workflow: Workflow, url: str) -> WebhookDelivery:
    execution = make_execution(workflow, notification_config=webhook_config(url))
    (delivery,) = notifications_enqueue(execution)
    return delivery


def test_a_webhook_is_delivered_signed_to_the_receiver(workflow, receiver):
    delivery = _delivery(workflow, receiver.url)

    outcome = webhook_attempt(delivery_id=delivery.pk)

    assert outcome.attempted and outcome.response_code == 200 and outcome.retry_in is None
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["path"] == "/hooks/prsm"
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == delivery.public_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
    assert headers["webhook-signature"].startswith("v1,")
    assert verify(webhook_secret_for(workflow), request["headers"], request["body"])
    assert not verify(webhook_secret_for("wf_someone_else"), request["headers"], request["body"])
    assert json.loads(request["body"]) == delivery.payload
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.response_code == 200
    assert delivery.attempts == 1
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_delivered_webhook_is_not_sent_again(workflow, receiver):
    delivery = _delivery(workflow, receiver.url)
    webhook_attempt(delivery_id=delivery.pk)

    again = webhook_attempt(delivery_id=delivery.pk, now=timezone.now() + timedelta(hours=1))

    assert not again.attempted and again.status == "delivered"
    assert len(receiver.requests) == 1


def test_failed_attempts_are_retried_with_exponential_backoff(workflow, receiver, fast_backoff):
    receiver.statuses = [500, 500, 200]
    delivery = _delivery(workflow, receiver.url)
    first_at = timezone.now()

    first = webhook_attempt(delivery_id=delivery.pk, now=first_at)

    delivery.refresh_from_db()
    assert (first.attempt, first.response_code, first.retry_in) == (1, 500, 5)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.response_code == 500 and delivery.last_error.startswith("HTTP 500")
    assert delivery.next_attempt_at == first_at + timedelta(seconds=5)

    # A duplicate message before the retry is due sends nothing.
    early = webhook_attempt(delivery_id=delivery.pk, now=first_at + timedelta(seconds=1))
    assert not early.attempted and len(receiver.requests) == 1

    second = webhook_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (second.attempt, second.retry_in) == (2, 10)
    assert delivery.next_attempt_at == first_at + timedelta(seconds=5 + 10)

    third = webhook_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert third.retry_in is None
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert delivery.response_code == 200
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {delivery.public_id}  # one id for every attempt: receivers de-duplicate


def test_a_webhook_fails_after_the_last_attempt(workflow, receiver, settings):
    settings.PRSM_WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [503, 502]
    delivery = _delivery(workflow, receiver.url)

    webhook_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    last = webhook_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)

    delivery.refresh_from_db()
    assert last.retry_in is None
    assert delivery.status == "failed" and delivery.attempts == 2
    assert delivery.response_code == 502 and "HTTP 502" in delivery.last_error
    assert not webhook_attempt(delivery_id=delivery.pk, now=timezone.now()).attempted


def test_a_redirect_is_a_failed_attempt_not_followed(workflow, receiver, fast_backoff):
    receiver.statuses = [307]
    delivery = _delivery(workflow, receiver.url)

    outcome = webhook_attempt(delivery_id=delivery.pk)

    assert outcome.response_code == 307 and outcome.retry_in == 5
    assert len(receiver.requests) == 1


def test_a_network_error_is_retried(workflow, receiver, fast_backoff):
    url = receiver.url.replace(str(receiver.port), "1")  # nothing listens on port 1
    delivery = _delivery(workflow, url)

    outcome = webhook_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.retry_in == 5 and outcome.response_code is None
    assert delivery.status == "pending" and "ConnectError" in delivery.last_error


def test_a_url_the_guard_refuses_fails_at_once(workflow, receiver, settings):
    delivery = _delivery(workflow, receiver.url)
    settings.PRSM_OUTBOUND_ALLOWLIST = []  # the allow-list changed after execute

    outcome = webhook_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome.attempted and outcome.retry_in is None
    assert delivery.status == "failed" and "outbound guard" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_message_during_an_attempt_in_flight_sends_nothing(alice_workflow, receiver):
    workflow = Workflow.objects.get(public_id=alice_workflow)
    delivery = _delivery(workflow, receiver.url)
    receiver.hold = threading.Event()
    results: list[Any] = []

    def attempt_in_thread() -> None:
        try:
            results.append(webhook_attempt(delivery_id=delivery.pk))
        finally:
            connection.close()  # the thread's own connection, or the test DB stays in use

    first = threading.Thread(target=attempt_in_thread)
    first.start()
    deadline = time.monotonic() + 10
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.01)

    duplicate = webhook_attempt(delivery_id=delivery.pk)
    receiver.hold.set()
    first.join(10)

    assert not duplicate.attempted
    assert results[0].response_code == 200
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_overdue_deliveries_are_published_again_once(
    workflow, fast_backoff, django_capture_on_commit_callbacks
):
    delivery = _delivery(workflow, "https://h.invalid/")
    later = timezone.now() + timedelta(minutes=5)

    with django_capture_on_commit_callbacks() as callbacks:
        assert webhook_deliveries_republish(now=later) == 1
        assert webhook_deliveries_republish(now=later + timedelta(seconds=1)) == 0
    assert len(callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == later


def test_the_tasks_deliver_end_to_end_after_commit(
    workflow, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """notifications_enqueue → commit → Celery tasks (run eagerly) → receiver and mailbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    cfg = {**webhook_config(receiver.url), "on_completion": ["webhook", "email"]}
    cfg["email"] = "lab@example.org"
    execution = make_execution(workflow, notification_config=cfg)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notifications_enqueue(execution)
        assert receiver.requests == []  # nothing before commit

    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "delivered"
    (email,) = mail.outbox
    assert email.to == ["lab@example.org"]
    assert email.subject == f"[PRSM] {workflow.name}: execution completed"
    assert deliver_webhook.name == "executions.deliver_webhook"
    assert send_email_notification.name == "executions.send_email_notification"


# --------------------------------------------------------------------------- email


def test_the_email_goes_to_the_owner_by_default_and_hides_secrets(workflow, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "prsm@lab.example"
    settings.PRSM_PUBLIC_URL = "https://prsm.lab.example/"
    workflow.owner.email = "alice@lab.example"
    workflow.owner.save()
    execution = make_execution(
        workflow,
        status=ExecutionStatus.FAILED,
        notification_config={"on_failure": ["email"]},
        secrets_encrypted=encrypt_secrets({"api_key": "sk-live-123456"}),
        error={"type": "execution_error", "message": "401 for key sk-live-123456"},
    )

    send_email_notification(execution.pk, "execution.failed")

    (email,) = mail.outbox
    assert email.to == ["alice@lab.example"]
    assert email.from_email == "prsm@lab.example"
    assert email.subject == f"[PRSM] {workflow.name}: execution failed"
    assert f"Execution: {execution.public_id}" in email.body
    assert "Error: 401 for key [REDACTED]" in email.body
    assert f"https://prsm.lab.example/executions/{execution.public_id}" in email.body
    assert "sk-live-123456" not in email.body


def test_no_email_is_sent_without_an_address(workflow, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    execution = make_execution(workflow, notification_config={"on_completion": ["email"]})
    send_email_notification(execution.pk, "execution.completed")
    assert mail.outbox == []
