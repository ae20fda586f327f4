"""``client.workflows``: the seed's workflow, execution and monitoring calls."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from prsm.models import (
    Analytics,
    Execution,
    OptimizationResult,
    Page,
    ResourceUsage,
    Template,
    ValidationResult,
    Workflow,
)

if TYPE_CHECKING:
    from prsm._http import Transport
    from prsm.monitor import Monitor

ERROR_HANDLER_FORM = (
    "set_error_handler() takes declarative rules, not a Python function: the engine runs "
    "on the server and cannot call your code. Write the handler as a list of rules, e.g.\n"
    "    workflow.set_error_handler([\n"
    '        {"on": "model_unavailable", "action": "use_fallback", '
    '"fallback_model": "gpt-3.5-turbo"},\n'
    '        {"on": "rate_limit", "action": "wait_and_retry", "wait_seconds": 60},\n'
    '        {"on": "execution_error", "action": "fail_workflow"},\n'
    "    ])\n"
    "Error types: timeout, rate_limit, temporary_failure, model_unavailable, invalid_input, "
    "execution_error. Actions: use_fallback, wait_and_retry, skip_step, fail_workflow."
)


def _seg(value: str) -> str:
    """One URL path segment, escaped (ids never contain '/', but user input might)."""
    return quote(str(value), safe="")


class WorkflowsAPI:
    """Workflows, executions, templates and live monitoring (``client.workflows``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    # --- definitions ---------------------------------------------------------------

    def create(
        self,
        name: str,
        description: str = "",
        steps: builtins.list[dict[str, Any]] | None = None,
        version: str | None = None,
        error_handling: dict[str, Any] | None = None,
        resource_requirements: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Workflow:
        """Create a workflow (``POST /workflows``).

        Extra keyword arguments (``input_schema``, ``tags``, ``change_note``, …) are sent
        as top-level definition fields. Raises ``ValidationError`` listing every problem.
        """
        body: dict[str, Any] = {"name": name, "steps": steps or []}
        if description:
            body["description"] = description
        if version is not None:
            body["version"] = version
        if error_handling is not None:
            body["error_handling"] = error_handling
        if resource_requirements is not None:
            body["resource_requirements"] = resource_requirements
        body.update(extra)
        return Workflow(self._t.request("POST", "/workflows", json=body), self)

    def import_definition(self, document: str, *, content_type: str) -> Workflow:
        """Create a workflow from a JSON or YAML document (``POST /workflows/import``)."""
        data = self._t.request(
            "POST",
            "/workflows/import",
            content=document.encode(),
            headers={"Content-Type": content_type},
        )
        return Workflow(data, self)

    def get(self, workflow_id: str) -> Workflow:
        """One workflow with its current ``definition`` and ``your_permissions``."""
        return Workflow(self._t.request("GET", f"/workflows/{_seg(workflow_id)}"), self)

    def list(
        self,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort: str | None = None,
        search: str | None = None,
    ) -> Page:
        """Workflows you may read (a ``Page``: a list with ``count``/``next``/``previous``).

        ``sort`` is ``created_at``, ``name``, ``status`` or ``updated_at``; ``-`` reverses.
        """
        params = {
            "status": status,
            "limit": limit,
            "offset": offset,
            "sort": sort,
            "search": search,
        }
        body = self._t.request("GET", "/workflows", params=params)
        return Page.parse(body, lambda item: Workflow(item, self))

    def update(
        self, workflow_id: str, change_note: str | None = None, **definition: Any
    ) -> Workflow:
        """Save a new version (``PUT /workflows/{id}``).

        Fields you pass replace the current definition's top-level fields; the rest are
        kept (the SDK reads the current definition first). Pass every field, including
        ``steps``, to replace the definition outright.
        """
        current = self.get(workflow_id).data.get("definition") or {}
        body = {**current, **definition}
        if change_note is not None:
            body["change_note"] = change_note
        data = self._t.request("PUT", f"/workflows/{_seg(workflow_id)}", json=body)
        return Workflow(data, self)

    def delete(self, workflow_id: str) -> None:
        """Delete a workflow (needs the ``delete`` permission)."""
        self._t.request("DELETE", f"/workflows/{_seg(workflow_id)}")

    def validate(
        self,
        workflow_definition: dict[str, Any],
        checks: builtins.list[str] | None = None,
    ) -> ValidationResult:
        """Check a definition without saving it (``POST /workflows/validate``).

        ``checks``: any of ``syntax_validation``, ``dependency_check``,
        ``resource_requirements``, ``cost_estimation`` (default: all).
        """
        body: dict[str, Any] = {"workflow_definition": workflow_definition}
        if checks is not None:
            body["checks"] = checks
        return ValidationResult(self._t.request("POST", "/workflows/validate", json=body))

    def export(self, workflow_id: str, format: str = "json", version: int | None = None) -> str:
        """The definition document as JSON or YAML text."""
        return str(
            self._t.request(
                "GET",
                f"/workflows/{_seg(workflow_id)}/export",
                params={"format": format, "version": version},
                headers={"Accept": "*/*"},  # the server picks the type from ?format=
                raw=True,
            )
        )

    def versions(self, workflow_id: str) -> builtins.list[dict[str, Any]]:
        """The workflow's saved versions, newest first."""
        return list(self._t.request("GET", f"/workflows/{_seg(workflow_id)}/versions") or [])

    def set_error_handler(
        self,
        workflow_id: str,
        rules: builtins.list[dict[str, Any]] | dict[str, Any],
        *,
        change_note: str | None = None,
    ) -> Workflow:
        """Replace ``error_handling.error_handlers`` with ``rules`` (saves a new version).

        A Python callable raises ``TypeError``: see ``Workflow.set_error_handler``.
        """
        if callable(rules):
            raise TypeError(ERROR_HANDLER_FORM)
        rule_list = [rules] if isinstance(rules, dict) else builtins.list(rules)
        for rule in rule_list:
            if callable(rule):
                raise TypeError(ERROR_HANDLER_FORM)
            if not isinstance(rule, dict) or "on" not in rule or "action" not in rule:
                raise TypeError(
                    f"Each rule is a dict with 'on' and 'action'.\n{ERROR_HANDLER_FORM}"
                )
        definition = dict(self.get(workflow_id).data.get("definition") or {})
        error_handling = dict(definition.get("error_handling") or {})
        error_handling["error_handlers"] = rule_list
        definition["error_handling"] = error_handling
        definition["change_note"] = change_note or "Error handlers set from the SDK"
        data = self._t.request("PUT", f"/workflows/{_seg(workflow_id)}", json=definition)
        return Workflow(data, self)

    def set_permissions(
        self, workflow_id: str, permissions: dict[str, builtins.list[str]]
    ) -> dict[str, Any]:
        """Share a workflow: ``{"read": [...], "execute": [...], "modify": [...],
        "delete": [...]}`` with user names and ``team:name`` entries. Owner or staff only."""
        return dict(
            self._t.request("POST", f"/workflows/{_seg(workflow_id)}/permissions", json=permissions)
        )

    def get_permissions(self, workflow_id: str) -> dict[str, Any]:
        """Who holds which permission on a workflow."""
        return dict(self._t.request("GET", f"/workflows/{_seg(workflow_id)}/permissions"))

    # --- templates -----------------------------------------------------------------

    def create_template(
        self,
        name: str,
        parameters: builtins.list[dict[str, Any]],
        steps_template: builtins.list[dict[str, Any]],
        description: str = "",
        **extra: Any,
    ) -> Template:
        """Create a reusable template (``POST /templates``)."""
        body: dict[str, Any] = {
            "name": name,
            "parameters": parameters,
            "steps_template": steps_template,
            **extra,
        }
        if description:
            body["description"] = description
        return Template(self._t.request("POST", "/templates", json=body))

    def instantiate_template(
        self, template_id: str, parameters: dict[str, Any] | None = None, **extra: Any
    ) -> Workflow:
        """Create a workflow from a template (``POST /templates/{id}/instantiate``)."""
        body = {"parameters": parameters or {}, **extra}
        data = self._t.request("POST", f"/templates/{_seg(template_id)}/instantiate", json=body)
        return Workflow(data, self)

    # --- executions ----------------------------------------------------------------

    def execute(
        self,
        workflow_id: str,
        inputs: dict[str, Any] | None = None,
        execution_config: dict[str, Any] | None = None,
        notification_config: dict[str, Any] | None = None,
        security_config: dict[str, Any] | None = None,
        resource_config: dict[str, Any] | None = None,
    ) -> Execution:
        """Start a run (``POST /workflows/{id}/execute``); returns at once.

        Secret inputs: ``{"type": "secret", "value": "sk-..."}``.
        """
        body: dict[str, Any] = {"inputs": inputs or {}}
        for key, value in (
            ("execution_config", execution_config),
            ("notification_config", notification_config),
            ("security_config", security_config),
            ("resource_config", resource_config),
        ):
            if value is not None:
                body[key] = value
        data = self._t.request("POST", f"/workflows/{_seg(workflow_id)}/execute", json=body)
        return Execution(data, self)

    def test(
        self,
        workflow_id: str,
        test_inputs: dict[str, Any] | None = None,
        mock_models: dict[str, dict[str, Any]] | None = None,
        execution_config: dict[str, Any] | None = None,
    ) -> Execution:
        """Start a test run with mocked models (``POST /workflows/{id}/test``).

        A mock is ``{"response": ..., "latency_ms": 100}`` or a failure
        ``{"error": "rate_limit", "fail_times": 2}``.
        """
        body: dict[str, Any] = {"test_inputs": test_inputs or {}, "mock_models": mock_models or {}}
        if execution_config is not None:
            body["execution_config"] = execution_config
        data = self._t.request("POST", f"/workflows/{_seg(workflow_id)}/test", json=body)
        return Execution(data, self)

    def executions(
        self,
        workflow_id: str,
        status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Page:
        """Runs of a workflow, newest first (summaries; ``refresh()`` for detail)."""
        params = {
            "status": status,
            "limit": limit,
            "offset": offset,
            "since": since,
            "until": until,
        }
        body = self._t.request("GET", f"/workflows/{_seg(workflow_id)}/executions", params=params)
        return Page.parse(body, lambda item: Execution(item, self))

    def get_execution(self, workflow_id: str, execution_id: str) -> Execution:
        """A run's status, steps, results, cost and resource usage."""
        path = f"/workflows/{_seg(workflow_id)}/executions/{_seg(execution_id)}"
        return Execution(self._t.request("GET", path), self)

    def cancel_execution(self, workflow_id: str, execution_id: str) -> Execution:
        """Cancel a run; returns its detail. ``ConflictError`` if it already ended."""
        path = f"/workflows/{_seg(workflow_id)}/executions/{_seg(execution_id)}/cancel"
        return Execution(self._t.request("POST", path), self)

    def resume_execution(self, workflow_id: str, execution_id: str) -> Execution:
        """Start a new run continuing a failed or cancelled one."""
        path = f"/workflows/{_seg(workflow_id)}/executions/{_seg(execution_id)}/resume"
        return Execution(self._t.request("POST", path), self)

    def monitor(self, execution_id: str, *, start: bool = True, from_start: bool = True) -> Monitor:
        """Watch a run live over a websocket; see ``prsm.monitor.Monitor``.

        The monitor connects at once in a background thread (``start=True``), so the
        seed's program, which only registers callbacks, prints them as the run goes
        and the interpreter exits once the run ends. ``monitor.run()`` / ``wait()``
        block until then. With ``from_start`` (default) events that already happened
        are delivered too.
        """
        from prsm.monitor import Monitor

        return Monitor(self, execution_id, start=start, from_start=from_start)

    # --- observability: analytics, resource usage, optimization --------------------

    def analytics(self, workflow_id: str, timeframe: str = "last_30_days") -> Analytics:
        """Performance of a workflow (``GET /workflows/{id}/analytics?timeframe=``).

        ``timeframe``: ``last_24_hours``, ``last_7_days``, ``last_30_days`` (also
        ``last_90_days``, ``last_week``, ``last_month``). The result has
        ``avg_duration_seconds``, ``success_rate`` (percent), ``avg_cost``,
        ``executions_by_status``, ``p50_duration_seconds``/``p95_duration_seconds``,
        ``steps`` (per-step duration, failure and retry rates, cost) and ``daily``
        buckets. Test runs are left out.
        """
        data = self._t.request(
            "GET", f"/workflows/{_seg(workflow_id)}/analytics", params={"timeframe": timeframe}
        )
        return Analytics(data)

    def resource_usage(
        self, timeframe: str = "last_week", group_by: str = "workflow_id"
    ) -> ResourceUsage:
        """Resource usage grouped by ``group_by`` (``GET /workflows/resource-usage``).

        ``group_by``: ``workflow_id``, ``user``, ``team`` or ``model``. A mapping of
        group key to metrics (``cpu_hours``, ``ram_gb_hours``, ``gpu_hours``,
        ``total_cost``, ``executions``), over the workflows you may read, largest cost
        first.
        """
        data = self._t.request(
            "GET",
            "/workflows/resource-usage",
            params={"timeframe": timeframe, "group_by": group_by},
        )
        return ResourceUsage(data)

    def optimize(
        self,
        workflow_id: str,
        optimization_goals: builtins.list[str] | None = None,
        constraints: dict[str, Any] | None = None,
    ) -> OptimizationResult:
        """Suggestions for a faster or cheaper workflow (``POST /workflows/{id}/optimize``).

        ``optimization_goals``: any of ``speed``, ``cost``, ``accuracy`` (none: all);
        ``constraints``: ``max_cost``, ``max_duration_seconds``. The result has
        ``suggestions`` (``kind``, ``steps``, ``reason``, ``estimated_effect``,
        ``applied``), ``optimized_definition`` (save it with ``update``),
        ``recommended_execution_config`` and ``projected`` before/after figures.
        """
        body = {"optimization_goals": optimization_goals or [], "constraints": constraints or {}}
        data = self._t.request("POST", f"/workflows/{_seg(workflow_id)}/optimize", json=body)
        return OptimizationResult(data)

    def create_dynamic(
        self,
        name: str,
        generator_function: str,
        input_schema: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Workflow:
        """Create a dynamic workflow: a registered generator builds its steps at run time.

        Sent as a ``POST /workflows`` definition with ``generator_function`` and
        ``steps: []``. ``generator_function`` must name a generator registered on the
        server (list them with ``GET /api/v1/catalog/functions?kind=generator``; the
        server ships ``generate_steps_for_documents``), else ``ValidationError``.
        Each execution runs the generator on its inputs; the generated steps are
        validated like any definition (invalid ones make ``execute`` raise
        ``ValidationError``) and appear in the execution's ``steps``.
        ``extra`` may add other definition fields (``description``, ``tags``,
        ``error_handling``, ``final_result``…).
        """
        body: dict[str, Any] = {
            "name": name,
            "generator_function": generator_function,
            "steps": [],
            **extra,
        }
        if input_schema is not None:
            body["input_schema"] = input_schema
        return Workflow(self._t.request("POST", "/workflows", json=body), self)


CallbackT = Callable[..., Any]
