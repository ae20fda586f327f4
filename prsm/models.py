"""Result objects: thin wrappers over the server's JSON with attribute access.

Every object keeps the raw response in ``.data``; the seed's fields are also
attributes (``workflow.id``, ``execution.status``, ``validation.is_valid``). Unknown
fields are reachable as attributes too, so a newer server's additions are not lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prsm.errors import WaitTimeoutError

if TYPE_CHECKING:
    from prsm.workflows import WorkflowsAPI

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "timed_out"})

# A step run's statuses. ``waiting``: a composite (loop, conditional) whose own steps
# run; it holds no parallel slot.
STEP_STATUSES = (
    "pending",
    "ready",
    "queued",
    "running",
    "waiting",
    "retrying",
    "completed",
    "failed",
    "skipped",
    "cancelled",
)
STEP_TERMINAL_STATUSES = frozenset({"completed", "failed", "skipped", "cancelled"})


def waiting_for(steps: list[str]) -> dict[str, Any]:
    """The ``waiting`` object of a pending step whose open dependencies are ``steps``,
    worded as the server words it ("Waiting for clean, fetch")."""
    steps = sorted(steps)
    shown = ", ".join(steps[:5])
    names = f"{shown} and {len(steps) - 5} more" if len(steps) > 5 else shown
    message = f"Waiting for {names}" if steps else "Waiting for its dependencies"
    return {"reason": "dependencies", "message": message, "steps": steps}


class Resource:
    """A JSON object from the API with attribute access to its fields."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data: dict[str, Any] = dict(data)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: fall back to the response's fields.
        data = self.__dict__.get("data")
        if data is not None and name in data:
            return data[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.data == self.data  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.data.get("id")))

    def __repr__(self) -> str:
        ident = self.data.get("id") or self.data.get("execution_id")
        return f"<{type(self).__name__} {ident or self.data!r}>"


class Workflow(Resource):
    """A workflow: ``id``, ``name``, ``status``, ``version``, ``step_count``,
    ``estimated_cost``, ``estimated_duration`` (and ``definition`` once fetched)."""

    def __init__(self, data: Mapping[str, Any], api: WorkflowsAPI | None = None) -> None:
        super().__init__(data)
        self._api = api

    @property
    def id(self) -> str:
        return str(self.data["id"])

    def _require_api(self) -> WorkflowsAPI:
        if self._api is None:
            raise RuntimeError("This Workflow is not bound to a client.")
        return self._api

    def refresh(self) -> Workflow:
        """Reload from the server (includes ``definition``); returns ``self``."""
        self.data = self._require_api().get(self.id).data
        return self

    def execute(self, inputs: dict[str, Any] | None = None, **kwargs: Any) -> Execution:
        """Shortcut for ``client.workflows.execute(workflow.id, inputs, ...)``."""
        return self._require_api().execute(self.id, inputs=inputs, **kwargs)

    def set_error_handler(
        self, rules: list[dict[str, Any]] | dict[str, Any], *, change_note: str | None = None
    ) -> Workflow:
        """Save declarative error-handling rules into ``error_handling.error_handlers``.

        The engine runs on the server, so it cannot call a Python function; the seed's
        ``custom_error_handler`` is written as rules instead::

            workflow.set_error_handler([
                {"on": "model_unavailable", "action": "use_fallback",
                 "fallback_model": "gpt-3.5-turbo"},
                {"on": "rate_limit", "action": "wait_and_retry", "wait_seconds": 60},
                {"on": "execution_error", "action": "fail_workflow"},
            ])

        Saves a new version (PUT) and returns ``self`` updated.
        """
        updated = self._require_api().set_error_handler(self.id, rules, change_note=change_note)
        self.data = updated.data
        return self


class ValidationResult(Resource):
    """The answer of ``validate``: ``is_valid``, ``errors``, ``warnings``, ``estimated_cost``."""

    @property
    def is_valid(self) -> bool:
        return bool(self.data.get("is_valid"))

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.data.get("errors") or [])

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return list(self.data.get("warnings") or [])

    @property
    def estimated_cost(self) -> float | None:
        return self.data.get("estimated_cost")


class Template(Resource):
    """A workflow template (``id``, ``name``, ``parameters``, ``steps_template``, …)."""

    @property
    def id(self) -> str:
        return str(self.data["id"])


class Execution(Resource):
    """One run of a workflow.

    ``id`` is the ``execution_id``. The object starts with the execute response
    (``status``, ``progress``, ``current_step``); ``refresh()`` loads the full
    detail (``steps``, ``final_result``, ``total_cost``, ``resource_usage``), and
    ``wait()`` polls until the run ends.
    """

    def __init__(self, data: Mapping[str, Any], api: WorkflowsAPI | None = None) -> None:
        super().__init__(data)
        self._api = api

    @property
    def id(self) -> str:
        return str(self.data["execution_id"])

    @property
    def workflow_id(self) -> str:
        return str(self.data["workflow_id"])

    @property
    def status(self) -> str:
        return str(self.data.get("status"))

    @property
    def is_finished(self) -> bool:
        """True once the run is completed, failed, cancelled or timed out."""
        return self.status in TERMINAL_STATUSES

    @property
    def result(self) -> Any:
        """The run's ``final_result`` (``None`` until completed; refresh or wait first)."""
        return self.data.get("final_result")

    @property
    def steps(self) -> list[dict[str, Any]]:
        """Per-step state and results (from the detail; refresh or wait first)."""
        return list(self.data.get("steps") or [])

    def step(self, step_id: str) -> dict[str, Any] | None:
        """One step's detail by id, or ``None``."""
        return next((s for s in self.steps if s.get("id") == step_id), None)

    @property
    def waiting(self) -> dict[str, str]:
        """Why each open step that is not running waits: ``{step_id: message}`` (from the
        step's ``waiting`` object: dependencies, a parallel slot, a queue, a retry…)."""
        return {
            str(s.get("id")): str(s["waiting"].get("message"))
            for s in self.steps
            if isinstance(s.get("waiting"), dict)
        }

    @property
    def estimated_completion(self) -> str | None:
        """While running, when the server expects the run to end (ISO 8601), else None."""
        return self.data.get("estimated_completion")

    def _require_api(self) -> WorkflowsAPI:
        if self._api is None:
            raise RuntimeError("This Execution is not bound to a client.")
        return self._api

    def refresh(self) -> Execution:
        """Reload the detail from the server; returns ``self``."""
        self.data = self._require_api().get_execution(self.workflow_id, self.id).data
        return self

    def wait(self, timeout: float | None = None, poll: float = 0.5) -> Execution:
        """Poll until the run reaches a terminal status; returns ``self``.

        Raises ``prsm.WaitTimeoutError`` after ``timeout`` seconds (``None``: no limit).
        It does not raise for a failed run: check ``status``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.refresh()
            if self.is_finished:
                return self
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeoutError(f"Execution {self.id} still {self.status} after {timeout} s")
            delay = poll if deadline is None else min(poll, max(0.0, deadline - time.monotonic()))
            time.sleep(delay)

    def cancel(self) -> Execution:
        """Cancel the run (a ``ConflictError`` if it already ended); returns ``self``."""
        self.data = self._require_api().cancel_execution(self.workflow_id, self.id).data
        return self

    def resume(self) -> Execution:
        """Start a new run that continues this failed or cancelled one; returns the new run."""
        return self._require_api().resume_execution(self.workflow_id, self.id)


class Analytics(Resource):
    """Performance of one workflow over a timeframe."""

    @property
    def avg_duration_seconds(self) -> float | None:
        return self.data.get("avg_duration_seconds")

    @property
    def success_rate(self) -> float | None:
        """Percent (0–100) of finished runs that completed."""
        return self.data.get("success_rate")

    @property
    def avg_cost(self) -> float | None:
        return self.data.get("avg_cost")


class ResourceMetrics(Resource):
    """Usage of one group: ``cpu_hours``, ``ram_gb_hours``, ``gpu_hours``, ``total_cost``."""

    @property
    def cpu_hours(self) -> float:
        return float(self.data.get("cpu_hours") or 0.0)

    @property
    def ram_gb_hours(self) -> float:
        return float(self.data.get("ram_gb_hours") or 0.0)

    @property
    def gpu_hours(self) -> float:
        return float(self.data.get("gpu_hours") or 0.0)

    @property
    def total_cost(self) -> float:
        return float(self.data.get("total_cost") or 0.0)


class ResourceUsage(Mapping[str, ResourceMetrics]):
    """Usage grouped by a key (e.g. workflow id): ``usage[key].cpu_hours``, ``usage.items()``.

    Accepts ``{"groups": {key: metrics}}``, ``{"groups": [{"key": …, …}]}`` or a bare
    ``{key: metrics}`` mapping, so it parses the planned endpoint's likely shapes.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data: dict[str, Any] = dict(data)
        groups: Any = self.data.get("groups", self.data)
        if isinstance(groups, list):
            groups = {str(g.get("key", g.get("id"))): g for g in groups if isinstance(g, dict)}
        self._groups = {
            str(k): ResourceMetrics(v) for k, v in groups.items() if isinstance(v, Mapping)
        }

    def __getitem__(self, key: str) -> ResourceMetrics:
        return self._groups[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)

    def __repr__(self) -> str:
        return f"<ResourceUsage {list(self._groups)}>"


class OptimizationResult(Resource):
    """Suggested changes for a workflow (``suggestions``, ``optimized_definition``, …)."""


class Page(list[Any]):
    """A list of results plus the pagination fields: ``total`` (the server's ``count``
    of all matches; ``list.count`` stays the list method), ``next`` and ``previous``."""

    def __init__(
        self,
        items: list[Any],
        *,
        count: int | None = None,
        next: str | None = None,
        previous: str | None = None,
    ) -> None:
        super().__init__(items)
        self.total = count if count is not None else len(items)
        self.next = next
        self.previous = previous

    @classmethod
    def parse(cls, body: Any, make: Callable[[dict[str, Any]], Any]) -> Page:
        if isinstance(body, dict) and "results" in body:
            return cls(
                [make(item) for item in body["results"]],
                count=body.get("count"),
                next=body.get("next"),
                previous=body.get("previous"),
            )
        return cls([make(item) for item in (body or [])])
