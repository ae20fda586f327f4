"""Server-rendered pages: the workflows list, the workflow tabs and the settings pages.

The run pages are the executions app's (``executions.pages``).

Views are thin (authorize, read, render); the React islands they mount get their
props as JSON in a ``data-props`` attribute (see ``frontend/src/lib/mount.tsx``).
"""

from workflows.pages import insights
from workflows.pages.views import (
    SignOutView,
    favicon,
    home,
    models,
    teams,
    template_gallery,
    tokens,
    workflow_analytics,
    workflow_editor,
    workflow_new,
    workflow_sharing,
    workflow_versions,
)

__all__ = [
    "SignOutView",
    "favicon",
    "home",
    "insights",
    "models",
    "teams",
    "template_gallery",
    "tokens",
    "workflow_analytics",
    "workflow_editor",
    "workflow_new",
    "workflow_sharing",
    "workflow_versions",
]
