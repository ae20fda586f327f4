"""The ``prsm`` command line: workflows, runs and executions from a terminal.

    prsm workflows list|get ID|create -f wf.yaml|validate -f wf.yaml|export ID [--format yaml]
    prsm run WORKFLOW_ID --input key=value ... [--max-parallel N] [--watch]
    prsm executions list WF_ID | get WF_ID EXEC_ID | cancel WF_ID EXEC_ID | resume WF_ID EXEC_ID

Reads ``PRSM_API_KEY`` and ``PRSM_BASE_URL`` (or ``--api-key``/``--base-url``). Output is
a table, or JSON with ``--json``. Exit status: 0 on success; 1 on an API error, an
invalid definition, or a watched run that did not complete; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from prsm import Client
from prsm.errors import PRSMError, ValidationError
from prsm.models import Execution

WORKFLOW_COLUMNS = ["id", "name", "status", "version", "step_count", "owner", "updated_at"]
EXECUTION_COLUMNS = ["execution_id", "status", "is_test", "started_at", "duration_seconds"]
STEP_COLUMNS = ["id", "status", "attempts", "model_used", "cost", "result", "error", "waiting"]


def _cell(value: Any, width: int = 60) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    """A plain aligned table (no dependencies)."""
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
    print("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)), file=out)
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip(), file=out)


def print_record(data: dict[str, Any], out: TextIO, skip: Sequence[str] = ()) -> None:
    """``key: value`` lines for one object."""
    for key, value in data.items():
        if key not in skip:
            print(f"{key}: {_cell(value, 200)}", file=out)


def load_definition(path: str) -> dict[str, Any]:
    """A definition from a ``.json``, ``.yaml`` or ``.yml`` file (``-`` for stdin)."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    if path.endswith(".json") or text.lstrip().startswith("{"):
        data = json.loads(text)
    else:
        import yaml  # lazily: only YAML users need PyYAML

        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SystemExit(f"prsm: {path}: a definition is a mapping with 'name' and 'steps'")
    return data


def parse_inputs(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value that parses as JSON (42, true, [1,2]) is used as such."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"prsm: --input expects key=value, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        inputs[key] = value
    return inputs


class Command:
    """One CLI invocation: the parsed arguments, a client and the output streams."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.client = Client(api_key=args.api_key, base_url=args.base_url)

    def emit(self, data: Any) -> None:
        print(json.dumps(data, indent=2, default=str), file=self.out)

    # --- workflows ---------------------------------------------------------------

    def workflows_list(self) -> int:
        a = self.args
        page = self.client.workflows.list(
            status=a.status, limit=a.limit, offset=a.offset, sort=a.sort, search=a.search
        )
        rows = [w.data for w in page]
        if a.json:
            self.emit({"count": page.total, "results": rows})
        else:
            print_table(rows, WORKFLOW_COLUMNS, self.out)
        return 0

    def workflows_get(self) -> int:
        workflow = self.client.workflows.get(self.args.workflow_id)
        if self.args.json:
            self.emit(workflow.data)
        else:
            print_record(workflow.data, self.out, skip=["definition"])
            steps = (workflow.data.get("definition") or {}).get("steps") or []
            print(f"steps: {', '.join(str(s.get('id')) for s in steps)}", file=self.out)
        return 0

    def workflows_create(self) -> int:
        definition = load_definition(self.args.file)
        name = definition.pop("name", None)
        if not name:
            raise SystemExit("prsm: the definition needs a 'name'")
        workflow = self.client.workflows.create(name, **definition)
        if self.args.json:
            self.emit(workflow.data)
        else:
            print_record(workflow.data, self.out, skip=["warnings"])
            for warning in workflow.data.get("warnings") or []:
                print(f"warning: {_issue(warning)}", file=self.err)
        return 0

    def workflows_validate(self) -> int:
        result = self.client.workflows.validate(load_definition(self.args.file))
        if self.args.json:
            self.emit(result.data)
        else:
            print("valid" if result.is_valid else "invalid", file=self.out)
            for issue in result.errors:
                print(f"error: {_issue(issue)}", file=self.out)
            for issue in result.warnings:
                print(f"warning: {_issue(issue)}", file=self.out)
            if result.estimated_cost is not None:
                print(f"estimated_cost: {result.estimated_cost}", file=self.out)
        return 0 if result.is_valid else 1

    def workflows_export(self) -> int:
        text = self.client.workflows.export(self.args.workflow_id, format=self.args.format)
        self.out.write(text if text.endswith("\n") else text + "\n")
        return 0

    # --- runs --------------------------------------------------------------------

    def run(self) -> int:
        a = self.args
        config = {"max_parallel_steps": a.max_parallel} if a.max_parallel else None
        execution = self.client.workflows.execute(
            a.workflow_id, inputs=parse_inputs(a.input), execution_config=config
        )
        if not a.watch:
            if a.json:
                self.emit(execution.data)
            else:
                print_record(execution.data, self.out)
            return 0
        if not a.json:
            print(f"execution {execution.id} {execution.status}", file=self.out, flush=True)
        monitor = self.client.workflows.monitor(execution.id, start=False)
        said: dict[str, str] = {}  # the reason last printed for each step

        @monitor.on_event
        def progress(event: dict[str, Any]) -> None:
            if a.json:
                print(json.dumps(event), file=self.out, flush=True)
                return
            payload = event.get("payload") or {}
            detail = ""
            if payload.get("error_type") or payload.get("error_message"):
                detail = f" {payload.get('error_type', '')}: {payload.get('error_message', '')}"
            elif isinstance(payload.get("error"), dict):
                detail = f" {payload['error'].get('type')}: {payload['error'].get('message')}"
            waiting = payload.get("waiting")
            if isinstance(waiting, dict) and waiting.get("message"):
                # (retrying: the reason names the last error already)
                detail = f" — {waiting['message']}"
                said[str(event.get("step"))] = str(waiting["message"])
            where = f" {event['step']}" if event.get("step") else ""
            line = f"[{event['seq']:>3}] {event['type']}{where}{detail}"
            print(line.rstrip(), file=self.out, flush=True)

        @monitor.on_step_waiting
        def waiting(step: str, why: dict[str, Any]) -> None:
            """Reasons no event line carried: the snapshot's, and a pending step's
            shorter list once one of its dependencies finished."""
            message = str(why.get("message"))
            if a.json or said.get(step) == message:
                return
            said[step] = message
            status = monitor.steps.get(step, {}).get("status", "")
            print(f"      {step} {status}: {message}", file=self.out, flush=True)

        monitor.run(timeout=a.timeout)
        final = execution.refresh()
        if a.json:
            self.emit(final.data)
        else:
            print(f"execution {final.id} {final.status}", file=self.out)
            if final.status == "completed":
                print(f"result: {_cell(final.result, 2000)}", file=self.out)
            elif final.data.get("error"):
                print(f"error: {_cell(final.data['error'], 2000)}", file=self.out)
        return 0 if final.status == "completed" else 1

    # --- executions --------------------------------------------------------------

    def _show_execution(self, execution: Execution) -> None:
        if self.args.json:
            self.emit(execution.data)
            return
        print_record(execution.data, self.out, skip=["steps", "inputs", "config"])
        if execution.steps:
            print("", file=self.out)
            rows = [{**s, "waiting": _waiting_message(s)} for s in execution.steps]
            print_table(rows, STEP_COLUMNS, self.out)
            for step in execution.steps:
                print_attempts(step, self.out)

    def executions_list(self) -> int:
        page = self.client.workflows.executions(
            self.args.workflow_id, status=self.args.status, limit=self.args.limit
        )
        rows = [e.data for e in page]
        if self.args.json:
            self.emit({"count": page.total, "results": rows})
        else:
            print_table(rows, EXECUTION_COLUMNS, self.out)
        return 0

    def executions_get(self) -> int:
        a = self.args
        self._show_execution(self.client.workflows.get_execution(a.workflow_id, a.execution_id))
        return 0

    def executions_cancel(self) -> int:
        a = self.args
        execution = self.client.workflows.cancel_execution(a.workflow_id, a.execution_id)
        self._show_execution(execution)
        return 0

    def executions_resume(self) -> int:
        a = self.args
        execution = self.client.workflows.resume_execution(a.workflow_id, a.execution_id)
        if a.json:
            self.emit(execution.data)
        else:
            print_record(execution.data, self.out)
        return 0


def _seconds(value: Any) -> str:
    return f"{value:g} s" if isinstance(value, (int, float)) else "?"


def attempt_line(attempt: dict[str, Any]) -> str:
    """One attempt: ``#2 gpt-4 failed after 1.2 s: rate_limit: … (then waited 2 s)``."""
    parts = [f"#{attempt.get('attempt')}", attempt.get("model") or "-", attempt.get("status", "")]
    if attempt.get("duration_seconds") is not None:
        parts.append(f"after {_seconds(attempt['duration_seconds'])}")
    line = " ".join(str(p) for p in parts)
    if attempt.get("error_type"):
        line += f": {attempt['error_type']}: {_cell(attempt.get('error_message') or '', 160)}"
    wait = attempt.get("wait_seconds")
    if attempt.get("next_model"):
        line += f" (then {attempt['next_model']})"
    elif isinstance(wait, (int, float)) and wait > 0:
        line += f" (then waited {_seconds(wait)})"
    return line


def print_attempts(step: dict[str, Any], out: TextIO) -> None:
    """The attempts of a step that needed more than one, or whose only one failed."""
    history = step.get("attempt_history") or []
    if len(history) < 2 and all(a.get("status") in ("succeeded", "running") for a in history):
        return
    print(f"\nattempts of {step.get('id')}:", file=out)
    for attempt in history:
        print(f"  {attempt_line(attempt)}", file=out)


def _waiting_message(step: dict[str, Any]) -> str | None:
    """Why an open step waits ("Waiting for clean, fetch"), or None."""
    waiting = step.get("waiting")
    return str(waiting.get("message")) if isinstance(waiting, dict) else None


def _issue(issue: Any) -> str:
    if not isinstance(issue, dict):
        return str(issue)
    where = issue.get("field") or issue.get("step") or ""
    return f"{where}: {issue.get('message')}" if where else str(issue.get("message"))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for ``--help`` tests and docs)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    common.add_argument("--api-key", default=None, help="default: $PRSM_API_KEY")
    common.add_argument("--base-url", default=None, help="default: $PRSM_BASE_URL")

    parser = argparse.ArgumentParser(prog="prsm", description="PRSM Workflows command line.")
    sub = parser.add_subparsers(dest="group", required=True)

    workflows = sub.add_parser("workflows", help="workflow definitions")
    wsub = workflows.add_subparsers(dest="action", required=True)
    p = wsub.add_parser("list", parents=[common], help="workflows you may read")
    p.add_argument("--status")
    p.add_argument("--search")
    p.add_argument("--sort")
    p.add_argument("--limit", type=int)
    p.add_argument("--offset", type=int)
    p.set_defaults(handler=Command.workflows_list)
    p = wsub.add_parser("get", parents=[common], help="one workflow")
    p.add_argument("workflow_id")
    p.set_defaults(handler=Command.workflows_get)
    p = wsub.add_parser("create", parents=[common], help="create from a JSON/YAML file")
    p.add_argument("-f", "--file", required=True)
    p.set_defaults(handler=Command.workflows_create)
    p = wsub.add_parser("validate", parents=[common], help="check a JSON/YAML file")
    p.add_argument("-f", "--file", required=True)
    p.set_defaults(handler=Command.workflows_validate)
    p = wsub.add_parser("export", parents=[common], help="print the definition")
    p.add_argument("workflow_id")
    p.add_argument("--format", choices=["json", "yaml"], default="json")
    p.set_defaults(handler=Command.workflows_export)

    p = sub.add_parser("run", parents=[common], help="execute a workflow")
    p.add_argument("workflow_id")
    p.add_argument(
        "--input", "-i", action="append", default=[], metavar="KEY=VALUE", help="repeatable"
    )
    p.add_argument("--watch", "-w", action="store_true", help="follow live; exit 0 only if ok")
    p.add_argument("--timeout", type=float, default=None, help="seconds to watch at most")
    p.add_argument(
        "--max-parallel", type=int, default=None, metavar="N", help="steps running at once"
    )
    p.set_defaults(handler=Command.run)

    executions = sub.add_parser("executions", help="runs of a workflow")
    esub = executions.add_subparsers(dest="action", required=True)
    p = esub.add_parser("list", parents=[common], help="runs of a workflow")
    p.add_argument("workflow_id")
    p.add_argument("--status")
    p.add_argument("--limit", type=int)
    p.set_defaults(handler=Command.executions_list)
    for name, handler in (
        ("get", Command.executions_get),
        ("cancel", Command.executions_cancel),
        ("resume", Command.executions_resume),
    ):
        p = esub.add_parser(name, parents=[common], help=f"{name} a run")
        p.add_argument("workflow_id")
        p.add_argument("execution_id")
        p.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the CLI; returns the exit status."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    command = Command(args, out, sys.stderr)
    try:
        return int(args.handler(command))
    except ValidationError as exc:
        print(f"prsm: {exc.message}", file=sys.stderr)
        for issue in exc.errors:
            print(f"  {_issue(issue)}", file=sys.stderr)
        return 1
    except PRSMError as exc:
        print(f"prsm: {type(exc).__name__}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        command.client.close()


if __name__ == "__main__":
    raise SystemExit(main())
