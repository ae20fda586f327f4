"""Run a workflow N times through the real engine, so analytics have a history.

    python manage.py seed_history --workflow wf_abc123 --runs 30

Needs a running Celery worker on the same database and Redis (``make run``
starts one). Inputs come from ``--inputs`` (JSON), else from the workflow's
``input_schema`` (defaults, first enum values, samples by type) and a sample
sentence for every other ``${workflow.input.NAME}`` the definition reads.
Runs are real (not test runs), started as the workflow's owner unless ``--user``
says otherwise, and count against the workflow's monthly budget.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from executions.budgets import BudgetExceeded, budget_check
from executions.models import EXECUTION_TERMINAL, Execution
from executions.services.lifecycle import execution_start
from workflows.models import Workflow

SENTENCES = (
    "PRSM makes research workflows easy to share and run.",
    "The experiment failed twice before the new protocol worked beautifully.",
    "Large language models summarize papers, but reviewers still read them.",
    "Our lab in Geneva measured the protein folding rates at three temperatures.",
    "I love how quickly the pipeline finishes now.",
)
SAMPLES: dict[str, Any] = {
    "integer": 3,
    "number": 0.5,
    "boolean": True,
    "array": ["alpha", "beta"],
    "object": {},
}
INPUT_REFERENCE = re.compile(r"\$\{\s*workflow\.input\.([A-Za-z_][A-Za-z0-9_]*)")


def sample_inputs(document: dict[str, Any], index: int) -> dict[str, Any]:
    sentence = SENTENCES[index % len(SENTENCES)]
    inputs: dict[str, Any] = {}
    for name, spec in (document.get("input_schema") or {}).items():
        if "default" in spec:
            inputs[name] = spec["default"]
        elif spec.get("enum"):
            inputs[name] = spec["enum"][0]
        else:
            inputs[name] = SAMPLES.get(spec.get("type", "string"), sentence)
    for name in INPUT_REFERENCE.findall(json.dumps(document.get("steps", []))):
        inputs.setdefault(name, sentence)
    return inputs


class Command(BaseCommand):
    help = "Run a workflow N times through the engine (needs a running Celery worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workflow", required=True, help="The workflow's id (wf_…).")
        parser.add_argument("--runs", type=int, default=30)
        parser.add_argument("--user", help="Who starts the runs (default: the owner).")
        parser.add_argument("--inputs", help="The inputs of every run, as a JSON object.")
        parser.add_argument(
            "--no-wait", action="store_true", help="Start the runs and return at once."
        )
        parser.add_argument("--timeout", type=float, default=600, help="Seconds to wait.")

    def handle(self, *args: Any, **options: Any) -> None:
        workflow = Workflow.objects.alive().filter(public_id=options["workflow"]).first()
        if workflow is None:
            raise CommandError(f"No workflow {options['workflow']}.")
        if options["runs"] < 1:
            raise CommandError("--runs must be at least 1.")
        user: Any = workflow.owner
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']}.")
        version = workflow.current_version
        assert version is not None  # every live workflow has one
        given = None
        if options["inputs"]:
            try:
                given = json.loads(options["inputs"])
            except ValueError as exc:
                raise CommandError(f"--inputs is not JSON: {exc}") from None
            if not isinstance(given, dict):
                raise CommandError("--inputs must be a JSON object.")
        from executions.api.serializers import ExecutionConfigSerializer

        config = dict(ExecutionConfigSerializer().to_internal_value({}))
        ids = []
        for index in range(options["runs"]):
            try:
                budget_check(workflow=workflow)
            except BudgetExceeded as exc:
                self.stderr.write(f"Stopped after {index} run(s): {exc}")
                break
            inputs = given if given is not None else sample_inputs(version.definition, index)
            ids.append(
                execution_start(workflow=workflow, user=user, inputs=inputs, config=config).pk
            )
        self.stdout.write(f"Started {len(ids)} run(s) of {workflow.public_id}.")
        if options["no_wait"] or not ids:
            return
        deadline = time.monotonic() + options["timeout"]
        while True:
            connection.close()  # see the worker's commits
            statuses = list(Execution.objects.filter(pk__in=ids).values_list("status", flat=True))
            if all(s in EXECUTION_TERMINAL for s in statuses):
                break
            if time.monotonic() > deadline:
                raise CommandError(
                    "Timed out waiting for the runs: is a Celery worker running (make run)?"
                )
            time.sleep(0.5)
        counts: dict[str, int] = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        self.stdout.write(f"Finished: {summary}.")
