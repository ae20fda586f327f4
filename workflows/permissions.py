"""The four workflow actions of the API and the guardian codenames behind them.

``read`` is granted by any of the four: whoever may run, edit or delete a
workflow may also see it.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    READ = "read"
    EXECUTE = "execute"
    MODIFY = "modify"
    DELETE = "delete"


CODENAMES: dict[Action, str] = {
    Action.READ: "view_workflow",
    Action.EXECUTE: "execute_workflow",
    Action.MODIFY: "change_workflow",
    Action.DELETE: "delete_workflow",
}
ALL_CODENAMES = tuple(CODENAMES.values())
ACTION_BY_CODENAME = {codename: action for action, codename in CODENAMES.items()}
TEAM_PREFIX = "team:"


def codenames_granting(action: Action) -> tuple[str, ...]:
    """Codenames any one of which allows ``action``."""
    if action is Action.READ:
        return ALL_CODENAMES
    return (CODENAMES[action],)
