"""Notices that someone's access may have ended, for whoever holds an open stream.

A websocket is authorized once, at its handshake; these notices tell every open
consumer, in whichever process holds it, to look again (``executions.consumers``):

- ``access.changed`` to :func:`workflow_access_group` when a workflow's grants
  change or it is deleted, and to :func:`user_access_group` when a user leaves a
  team: each consumer re-reads whether its user may still read what it streams
  and, if not, closes with 4403;
- ``token.revoked`` to :func:`token_group` when an API token is revoked: a socket
  opened with it closes with 4401.

A notice names no one's rights: the consumer asks the database, so granting
something (or a change that leaves a reader's access as it was) closes nothing.
Notices are sent after commit, through the publisher the engine registers
(``workflows.registry.notice_publisher``); without one they go nowhere.
"""

from __future__ import annotations

import functools

from django.db import transaction

from workflows.registry import notice_publisher

ACCESS_CHANGED = "access.changed"
TOKEN_REVOKED = "token.revoked"


def workflow_access_group(workflow_public_id: str) -> str:
    """The group of every stream of a workflow or of one of its executions."""
    return f"access.workflow.{workflow_public_id}"


def user_access_group(user_id: int) -> str:
    """The group of every stream a user holds."""
    return f"access.user.{user_id}"


def token_group(token_id: int) -> str:
    """The group of every stream opened with one API token."""
    return f"access.token.{token_id}"


def _send(group: str, message_type: str) -> None:
    notice_publisher()((group,), {"type": message_type})


def workflow_access_changed_on_commit(*, workflow_public_id: str) -> None:
    transaction.on_commit(
        functools.partial(_send, workflow_access_group(workflow_public_id), ACCESS_CHANGED)
    )


def user_access_changed_on_commit(*, user_id: int) -> None:
    transaction.on_commit(functools.partial(_send, user_access_group(user_id), ACCESS_CHANGED))


def token_revoked_on_commit(*, token_id: int) -> None:
    transaction.on_commit(functools.partial(_send, token_group(token_id), TOKEN_REVOKED))
