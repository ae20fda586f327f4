"""Teams and user search: who workflows can be shared with.

``/teams`` lists and creates the caller's teams; a team's managers add and
remove members. ``/users?search=`` feeds the autocomplete of the sharing and
team pages. Rules live in ``workflows.teams``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows import teams
from workflows.api.parsers import LimitedJSONParser
from workflows.errors import ActionForbidden


class UserSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class MemberSerializer(UserSerializer):
    is_manager = serializers.BooleanField()


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    share_as = serializers.CharField(help_text="How to name the team in workflow permissions.")
    can_manage = serializers.BooleanField(help_text="Whether the caller may change the members.")
    members = MemberSerializer(many=True)


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=teams.TEAM_NAME_MAX, allow_blank=True)


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    is_manager = serializers.BooleanField(required=False, default=False)


def _team_data(team: Group, managers: set[int], user: Any) -> dict[str, Any]:
    members = getattr(team, "active_members", None)
    if members is None:
        members = list(team.user_set.filter(is_active=True).order_by("username"))
    return {
        "id": team.pk,
        "name": team.name,
        "share_as": f"team:{team.name}",
        "can_manage": user.is_superuser or user.pk in managers,
        "members": [
            {
                "username": m.get_username(),
                "first_name": m.first_name,
                "last_name": m.last_name,
                "is_manager": m.pk in managers,
            }
            for m in members
        ],
    }


def _bad_request(exc: teams.TeamError) -> ValidationError:
    return ValidationError({exc.field: [str(exc)]})


class TeamViewSet(viewsets.ViewSet):
    """The caller's teams. Teams you are not in read as 404."""

    parser_classes = [LimitedJSONParser]
    lookup_value_regex = "[0-9]+"

    def _get(self, request: Request, pk: str) -> Group:
        try:
            return teams.team_get(user=request.user, team_id=int(pk))
        except teams.TeamNotFound:
            raise NotFound() from None

    def _detail(self, request: Request, team: Group, code: int = status.HTTP_200_OK) -> Response:
        team = teams.team_get(user=request.user, team_id=team.pk)
        managers = teams.team_manager_ids([team]).get(team.pk, set())
        return Response(TeamSerializer(_team_data(team, managers, request.user)).data, status=code)

    @extend_schema(responses=TeamSerializer(many=True))
    def list(self, request: Request) -> Response:
        mine = list(teams.teams_for_user(request.user))
        managers = teams.team_manager_ids(mine)
        data = [_team_data(t, managers.get(t.pk, set()), request.user) for t in mine]
        return Response(TeamSerializer(data, many=True).data)

    @extend_schema(request=TeamCreateSerializer, responses={201: TeamSerializer})
    def create(self, request: Request) -> Response:
        body = TeamCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            team = teams.team_create(creator=request.user, name=body.validated_data["name"])
        except teams.TeamError as exc:
            raise _bad_request(exc) from None
        return self._detail(request, team, status.HTTP_201_CREATED)

    @extend_schema(responses=TeamSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._detail(request, self._get(request, pk))

    @extend_schema(
        request=MemberAddSerializer,
        responses=TeamSerializer,
        description="Add a member (managers only); `is_manager` makes them a manager too.",
    )
    @action(detail=True, methods=["post"])
    def members(self, request: Request, pk: str) -> Response:
        team = self._get(request, pk)
        if not teams.user_can_manage_team(request.user, team):
            raise ActionForbidden("Only the team's managers may add members.")
        body = MemberAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            teams.team_member_add(
                team=team,
                username=body.validated_data["username"],
                manager=body.validated_data["is_manager"],
            )
        except teams.TeamError as exc:
            raise _bad_request(exc) from None
        return self._detail(request, team)

    @extend_schema(
        responses=TeamSerializer,
        description="Remove a member (managers only; anyone may remove themselves).",
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"members/(?P<username>[^/]+)",
        url_name="member",
    )
    def member(self, request: Request, pk: str, username: str) -> Response:
        team = self._get(request, pk)
        leaving = username == request.user.get_username()
        if not leaving and not teams.user_can_manage_team(request.user, team):
            raise ActionForbidden("Only the team's managers may remove members.")
        try:
            teams.team_member_remove(team=team, username=username)
        except teams.TeamError as exc:
            raise _bad_request(exc) from None
        if leaving and not request.user.is_superuser:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._detail(request, team)


# At least USER_SEARCH_MIN characters once surrounding spaces go, and no NUL.
USER_SEARCH_PATTERN = rf"^\s*[^\s\x00][^\x00]{{{teams.USER_SEARCH_MIN - 2},}}[^\s\x00]\s*$"


class UserSearchView(APIView):
    """Autocomplete for sharing and teams: a few users matching ``search``."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                {
                    "type": "string",
                    "pattern": USER_SEARCH_PATTERN,
                },
                required=True,
                description=f"At least {teams.USER_SEARCH_MIN} characters; matches username, "
                f"first or last name. At most {teams.USER_SEARCH_LIMIT} results.",
            )
        ],
        responses=UserSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        try:
            users = teams.users_search(query=request.query_params.get("search", ""))
        except teams.TeamError as exc:
            raise _bad_request(exc) from None
        return Response(UserSerializer(users, many=True).data)
