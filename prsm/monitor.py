"""Live monitoring of one execution over the server's websocket (``docs/events.md``).

``Monitor`` connects to ``ws/executions/{id}/`` with the API key in the
``Authorization`` header, reads the snapshot, then dispatches every event exactly once
in ``seq`` order. After a dropped connection it reconnects with ``?after=<last seq>``,
so nothing is missed or repeated, and it stops when the run reaches a terminal status.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from prsm.errors import (
    AuthenticationError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    PRSMError,
    WaitTimeoutError,
)
from prsm.models import STEP_TERMINAL_STATUSES, TERMINAL_STATUSES, Execution, waiting_for

if TYPE_CHECKING:
    from prsm.workflows import WorkflowsAPI

Callback = Callable[..., Any]

TERMINAL_EVENTS = {
    "execution.completed": "completed",
    "execution.failed": "failed",
    "execution.timed_out": "timed_out",
    "execution.cancelled": "cancelled",
}
# Close codes the server uses after accepting the handshake (docs/events.md).
CLOSE_ERRORS: dict[int, type[PRSMError]] = {
    4400: PRSMError,
    4401: AuthenticationError,
    4404: NotFoundError,
}


@dataclass(frozen=True)
class StepError:
    """Why a step or a run failed: ``type`` (e.g. ``rate_limit``), ``message``,
    and for a run the ``step`` that made it fail."""

    type: str
    message: str
    step: str | None = None
    reason: str | None = None

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


class Monitor:
    """Callbacks for one execution's live events.

    Register callbacks with the decorators; each gets every matching event, including
    the ones that happened before it was registered (they are replayed at once), so
    the order of registration and connection does not matter::

        monitor = client.workflows.monitor(execution_id)

        @monitor.on_step_completed
        def step_completed(step_id, result): ...

        monitor.run(timeout=300)   # optional: block until the run ends

    The connection runs in a background (non-daemon) thread started at creation, so a
    script that only registers callbacks keeps running until the execution ends.
    Callbacks run in that thread, one at a time.
    """

    ping_every: float = 20.0
    max_reconnect_tries: int = 8

    def __init__(
        self,
        api: WorkflowsAPI,
        execution_id: str,
        *,
        start: bool = True,
        from_start: bool = True,
    ) -> None:
        self._api = api
        self.execution_id = execution_id
        self.workflow_id: str | None = None
        self.status: str | None = None
        self.final_result: Any = None
        self.events: list[dict[str, Any]] = []
        # Each step run's live state by key ("s1", "loop[2]"): its ``status`` and
        # ``waiting`` (why it waits, or None), from the snapshot and the events.
        self.steps: dict[str, dict[str, Any]] = {}
        self.connections = 0
        self.last_seq: int | None = 0 if from_start else None
        self._handlers: dict[str, list[Callback]] = {
            "step_completed": [],
            "step_failed": [],
            "step_waiting": [],
            "workflow_completed": [],
            "workflow_failed": [],
            "event": [],
        }
        self._history: list[tuple[str, tuple[Any, ...]]] = []
        self._lock = threading.RLock()  # held while dispatching, so callbacks never overlap
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._error: BaseException | None = None
        self._waiting = False
        self._ws: ClientConnection | None = None
        self._detail: Execution | None = None
        self._terminal_pending = False
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    # --- registration ------------------------------------------------------------

    def _register(self, kind: str, callback: Callback) -> Callback:
        with self._lock:
            for past_kind, args in self._history:
                if past_kind == kind:
                    callback(*args)
            self._handlers[kind].append(callback)
        return callback

    def on_step_completed(self, callback: Callback) -> Callback:
        """``callback(step_id, result)`` when a step completes (result from the detail)."""
        return self._register("step_completed", callback)

    def on_step_failed(self, callback: Callback) -> Callback:
        """``callback(step_id, error)`` when a step fails for good (``error``: StepError)."""
        return self._register("step_failed", callback)

    def on_step_waiting(self, callback: Callback) -> Callback:
        """``callback(step_key, waiting)`` when what a step waits for changes: from the
        snapshot, an event (``step.ready|queued|retrying|waiting``), or a pending step's
        dependency finishing. ``waiting`` is ``{reason, message, …}`` (docs/events.md)."""
        return self._register("step_waiting", callback)

    def on_workflow_completed(self, callback: Callback) -> Callback:
        """``callback(final_result)`` when the run completes."""
        return self._register("workflow_completed", callback)

    def on_workflow_failed(self, callback: Callback) -> Callback:
        """``callback(error)`` when the run fails, times out or is cancelled (StepError)."""
        return self._register("workflow_failed", callback)

    def on_event(self, callback: Callback) -> Callback:
        """``callback(event)`` for every event message (a dict, see docs/events.md)."""
        return self._register("event", callback)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> Monitor:
        """Connect in the background (done at creation unless ``start=False``)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._main, name=f"prsm-monitor-{self.execution_id}", daemon=False
            )
            self._thread.start()
        return self

    def run(self, timeout: float | None = None) -> Monitor:
        """Block until the execution ends; re-raise what stopped the monitor, if anything.

        Raises ``WaitTimeoutError`` (and stops monitoring) after ``timeout`` seconds.
        """
        self._waiting = True
        self.start()
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.stop()
            raise WaitTimeoutError(
                f"Execution {self.execution_id} still {self.status} after {timeout} s"
            )
        if self._error is not None:
            raise self._error
        return self

    def wait(self, timeout: float | None = None) -> Monitor:
        """Same as ``run``."""
        return self.run(timeout)

    def stop(self) -> None:
        """Stop monitoring (callbacks already running finish)."""
        self._stop.set()
        ws = self._ws
        if ws is not None:
            ws.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    @property
    def finished(self) -> bool:
        """True once the execution reached a terminal status and was fully dispatched."""
        return self._finished.is_set()

    # --- the connection loop -----------------------------------------------------

    def _url(self) -> str:
        base = self._api._t.ws_base
        url = f"{base}/ws/executions/{quote(self.execution_id, safe='')}/"
        return url if self.last_seq is None else f"{url}?after={self.last_seq}"

    def _main(self) -> None:
        try:
            self._loop()
        except BaseException as exc:
            self._error = exc
            if not self._waiting:  # nobody will re-raise it: show it, as a thread would
                traceback.print_exc()
        finally:
            self._ws = None

    def _loop(self) -> None:
        failures = 0
        headers = {}
        if self._api._t.api_key:
            headers["Authorization"] = f"Bearer {self._api._t.api_key}"
        while not self._stop.is_set() and not self._finished.is_set():
            try:
                with connect(
                    self._url(),
                    additional_headers=headers,
                    open_timeout=15,
                    ping_interval=20,
                    ping_timeout=20,
                    max_size=2**24,
                    user_agent_header="prsm-python-sdk/0.1",
                ) as ws:
                    self._ws = ws
                    self.connections += 1
                    failures = 0
                    self._read(ws)
                    return
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code in CLOSE_ERRORS:
                    reason = exc.rcvd.reason if exc.rcvd is not None else ""
                    raise CLOSE_ERRORS[code](
                        f"Monitor for {self.execution_id}: closed with {code} {reason}".strip(),
                        status_code=code,
                    ) from None
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status == 403:
                    raise PermissionDeniedError(
                        f"Websocket handshake refused: {status}", status_code=status
                    ) from None
                if status in (401, 404):
                    cls = AuthenticationError if status == 401 else NotFoundError
                    message = f"Websocket handshake refused: {status}"
                    raise cls(message, status_code=status) from None
                failures += 1  # e.g. a proxy's 502 while the server restarts
                if failures >= self.max_reconnect_tries:
                    raise NetworkError(
                        f"Monitor could not reconnect: HTTP {status}", status_code=status
                    ) from None
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                failures += 1
                if failures >= self.max_reconnect_tries:
                    raise NetworkError(f"Monitor could not reconnect: {exc}") from exc
            finally:
                self._ws = None
            if self._stop.is_set() or self._finished.is_set():
                return
            # Reconnect (with ?after=last seq): at once after a drop, then back off.
            time.sleep(min(5.0, 0.2 * 2**failures) if failures else 0.05)

    def _read(self, ws: ClientConnection) -> None:
        while not self._stop.is_set():
            try:
                batch = [ws.recv(timeout=self.ping_every)]
            except TimeoutError:
                ws.send(json.dumps({"type": "ping"}))  # keep-alive, and repairs the stream
                continue
            while True:  # everything already received forms one batch
                try:
                    batch.append(ws.recv(timeout=0))
                except TimeoutError:
                    break
            self._detail = None  # one execution-detail fetch per batch at most
            for raw in batch:
                self._handle(ws, json.loads(raw))
                if self._finished.is_set():
                    return

    def _handle(self, ws: ClientConnection, message: dict[str, Any]) -> None:
        kind = message.get("kind")
        if kind == "snapshot":
            self.workflow_id = message.get("workflow_id") or self.workflow_id
            self.status = message.get("status")
            if self.last_seq is None:
                self.last_seq = int(message.get("last_seq") or 0)
            for step in message.get("steps") or []:
                if isinstance(step, dict) and step.get("key"):
                    self._step_update(str(step["key"]), step.get("status"), step.get("waiting"))
            if self.status in TERMINAL_STATUSES:
                # Its terminal event is replayed if we asked for it; a pong proves
                # every committed event has been sent, so then we can finish.
                self._terminal_pending = True
                ws.send(json.dumps({"type": "ping"}))
        elif kind == "event":
            self._handle_event(message)
        elif kind == "pong" and self._terminal_pending and not self._finished.is_set():
            self._finish_from_detail()

    def _handle_event(self, event: dict[str, Any]) -> None:
        seq = int(event["seq"])
        if self.last_seq is not None and seq <= self.last_seq:
            return  # already seen (cannot happen with a correct server; cheap to guard)
        self.last_seq = seq
        self.workflow_id = event.get("workflow_id") or self.workflow_id
        self.events.append(event)
        self._dispatch("event", event)
        etype = event.get("type")
        payload = event.get("payload") or {}
        step = event.get("step")
        if etype == "step.completed":
            self._dispatch("step_completed", step, self._step_result(step))
        elif etype == "step.failed":
            error = StepError(
                type=str(payload.get("error_type") or "execution_error"),
                message=str(payload.get("error_message") or ""),
                step=step,
                reason=payload.get("reason"),
            )
            self._dispatch("step_failed", step, error)
        elif etype in TERMINAL_EVENTS:
            self.status = TERMINAL_EVENTS[etype]
            self._finish(payload)
        if step and payload.get("status"):
            self._step_update(step, payload["status"], payload.get("waiting"))

    def _step_update(self, key: str, status: Any, waiting: Any) -> None:
        """Record a step's status and reason; tell ``step_waiting`` what changed. A step
        that finished never moves back (a replayed event is older news)."""
        state = self.steps.setdefault(key, {"status": "pending", "waiting": None})
        if state["status"] in STEP_TERMINAL_STATUSES and status not in STEP_TERMINAL_STATUSES:
            return
        was_open = state["status"] not in STEP_TERMINAL_STATUSES
        state["status"] = str(status or state["status"])
        self._set_waiting(key, waiting if isinstance(waiting, dict) else None)
        if was_open and state["status"] in STEP_TERMINAL_STATUSES:
            # A pending step gets no event when a dependency finishes: say it here.
            for other, st in self.steps.items():
                why = st["waiting"]
                pending = st["status"] == "pending" and why and why.get("reason") == "dependencies"
                if pending and key in (why.get("steps") or []):
                    open_steps = [k for k in why["steps"] if k != key]
                    # (none left: its own event follows at once, with its next reason)
                    self._set_waiting(other, waiting_for(open_steps) if open_steps else None)

    def _set_waiting(self, key: str, waiting: dict[str, Any] | None) -> None:
        state = self.steps[key]
        before = state["waiting"]
        state["waiting"] = waiting
        if waiting and (not before or before.get("message") != waiting.get("message")):
            self._dispatch("step_waiting", key, waiting)

    def _finish(self, payload: dict[str, Any]) -> None:
        if self.status == "completed":
            self.final_result = self._detail_cached().result
            self._dispatch("workflow_completed", self.final_result)
        else:
            err = payload.get("error") or {}
            self._dispatch(
                "workflow_failed",
                StepError(
                    type=str(err.get("type") or self.status),
                    message=str(err.get("message") or ""),
                    step=err.get("step"),
                ),
            )
        self._finished.set()

    def _finish_from_detail(self) -> None:
        detail = self._detail_cached(fresh=True)
        self.status = detail.status
        self._finish({"error": detail.data.get("error") or {}})

    def _detail_cached(self, *, fresh: bool = False) -> Execution:
        if self._detail is None or fresh:
            if self.workflow_id is None:
                raise PRSMError("No snapshot yet: the execution's workflow is unknown.")
            self._detail = self._api.get_execution(self.workflow_id, self.execution_id)
        return self._detail

    def _step_result(self, key: str | None) -> Any:
        """The step's result from the execution detail (events do not carry results).

        Loop iterations (``loop[3]``) and branches (``cond.if_true``) have no result of
        their own in the detail; they get ``None``.
        """
        if key is None:
            return None
        step = self._detail_cached().step(key)
        return step.get("result") if step else None

    def _dispatch(self, kind: str, *args: Any) -> None:
        with self._lock:
            self._history.append((kind, args))
            for callback in list(self._handlers[kind]):
                callback(*args)
