"""Teams: the Django groups that workflows are shared with, and who manages them.

A team is an ``auth.Group`` (written ``team:NAME`` in the permissions API). Its
managers hold django-guardian's object permission ``auth.change_group`` on that
group: whoever creates a team becomes its first manager, and a manager may add
members (optionally as managers too) and remove them. A team always keeps at
least one manager. Only members see a team; superusers may manage any team.

Reads (``teams_for_user``, ``team_get``, ``users_search``) and writes
(``team_create``, ``team_member_add``, ``team_member_remove``) follow the
selectors/services split: callers authorize with ``user_can_manage_team``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from workflows.access import user_access_changed_on_commit

User = Any  # django.contrib.auth user

MANAGER_PERMISSION = "auth.change_group"
TEAM_NAME_MAX = 150
USER_SEARCH_MIN = 2
USER_SEARCH_LIMIT = 10


class TeamError(ValueError):
    """A team request that cannot be done as asked (400). ``field`` names the input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class TeamNotFound(Exception):
    """No such team, or the caller is not a member (both read as 404)."""


# --- reads ------------------------------------------------------------------------------


def _members_prefetch() -> Prefetch:
    return Prefetch(
        "user_set",
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_attr="active_members",
    )


def teams_for_user(user: User) -> QuerySet[Group]:
    """The teams ``user`` belongs to, with their active members prefetched."""
    if not user.is_authenticated:
        return Group.objects.none()
    return Group.objects.filter(user=user).order_by("name").prefetch_related(_members_prefetch())


def team_get(*, user: User, team_id: int) -> Group:
    """A team the caller belongs to, else ``TeamNotFound``."""
    team = teams_for_user(user).filter(pk=team_id).first()
    if team is None:
        raise TeamNotFound(team_id)
    return team


def team_manager_ids(teams: Iterable[Group]) -> dict[int, set[int]]:
    """``{team id: {user ids of its managers}}`` for all ``teams`` in one query."""
    ids = [str(team.pk) for team in teams]
    managers: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return managers
    rows = UserObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(Group),
        permission__codename="change_group",
        object_pk__in=ids,
    ).values_list("object_pk", "user_id")
    for object_pk, user_id in rows:
        managers[int(object_pk)].add(user_id)
    return managers


def user_can_manage_team(user: User, team: Group) -> bool:
    return bool(user.is_superuser or user.has_perm(MANAGER_PERMISSION, team))


def users_search(*, query: str) -> list[Any]:
    """Active users whose username, first or last name contains ``query``.

    At most ``USER_SEARCH_LIMIT``; exact username matches come first. Raises
    ``TeamError`` when the query is shorter than ``USER_SEARCH_MIN`` characters.
    """
    query = query.strip()
    if len(query) < USER_SEARCH_MIN:
        raise TeamError("search", f"Type at least {USER_SEARCH_MIN} characters to search.")
    model = get_user_model()
    matches = model.objects.filter(is_active=True).filter(
        Q(username__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
    )
    # An exact username match first, then the others alphabetically.
    exact = Case(When(username__iexact=query, then=Value(0)), default=Value(1))
    return list(matches.order_by(exact, "username")[:USER_SEARCH_LIMIT])


# --- writes -----------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise TeamError("name", "Give the team a name.")
    if len(name) > TEAM_NAME_MAX:
        raise TeamError("name", f"A team name has at most {TEAM_NAME_MAX} characters.")
    return name


@transaction.atomic
def team_create(*, creator: User, name: str) -> Group:
    """Create a team with ``creator`` as its first member and manager.

    Team names are unique (case-insensitively): they are how workflows are shared
    (``team:NAME``). Raises ``TeamError`` for an empty or taken name.
    """
    name = _clean_name(name)
    if Group.objects.filter(name__iexact=name).exists():
        raise TeamError("name", f"A team named '{name}' already exists; choose another name.")
    team = Group.objects.create(name=name)
    team.user_set.add(creator)
    assign_perm(MANAGER_PERMISSION, creator, team)
    return team


def _active_user(username: str) -> Any:
    model = get_user_model()
    user = model.objects.filter(
        **{model.USERNAME_FIELD: str(username).strip()}, is_active=True
    ).first()
    if user is None:
        raise TeamError("username", f"There is no user named '{username}'.")
    return user


@transaction.atomic
def team_member_add(*, team: Group, username: str, manager: bool = False) -> Any:
    """Add a member (idempotent); ``manager=True`` also makes them a manager.

    Raises ``TeamError`` for an unknown or inactive user.
    """
    user = _active_user(username)
    team.user_set.add(user)
    if manager:
        assign_perm(MANAGER_PERMISSION, user, team)
    return user


@transaction.atomic
def team_member_remove(*, team: Group, username: str) -> None:
    """Remove a member and their manager role.

    Locks the group row so two managers removing each other cannot leave the team
    without one. Raises ``TeamError`` if the user is not a member or is the last manager.
    """
    Group.objects.select_for_update().filter(pk=team.pk).first()
    model = get_user_model()
    user = team.user_set.filter(**{model.USERNAME_FIELD: username}).first()
    if user is None:
        raise TeamError("username", f"'{username}' is not a member of {team.name}.")
    managers = team_manager_ids([team]).get(team.pk, set())
    member_ids = set(team.user_set.values_list("pk", flat=True))
    if managers and managers & member_ids == {user.pk} and member_ids != {user.pk}:
        raise TeamError(
            "username",
            f"{username} is the last manager of {team.name}: make another member a manager first.",
        )
    team.user_set.remove(user)
    remove_perm(MANAGER_PERMISSION, user, team)
    user_access_changed_on_commit(user_id=user.pk)  # their team's grants end for open streams
