"""Server-rendered run pages: a workflow's Runs tab and one run.

They sit in the workflow's page shell (``workflows.pages.views``); the URLs keep
the names ``workflow-runs`` and ``run-detail``.
"""

from executions.pages.views import run_detail, workflow_runs

__all__ = ["run_detail", "workflow_runs"]
