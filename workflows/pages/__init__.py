"""Server-rendered pages: the workflows list, the workflow tabs and the settings pages.

Views are thin (authorize, read, render); the React islands they mount get their
props as JSON in a ``data-props`` attribute (see ``frontend/src/lib/mount.tsx``).
"""

from workflows.pages import insights
from workflows.pages.views import (
    SignOutView,
    home,
    run_detail,
    teams,
    template_gallery,
    tokens,
    workflow_analytics,
    workflow_editor,
    workflow_new,
    workflow_runs,
    workflow_sharing,
    workflow_versions,
)

__all__ = [
    "SignOutView",
    "home",
    "insights",
    "run_detail",
    "teams",
    "template_gallery",
    "tokens",
    "workflow_analytics",
    "workflow_editor",
    "workflow_new",
    "workflow_runs",
    "workflow_sharing",
    "workflow_versions",
]
