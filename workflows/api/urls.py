from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from workflows.api import audit_views, catalog_views, teams_views, views


class OptionalSlashRouter(SimpleRouter):
    """Accept the seed's paths (``/workflows/{id}``) with or without a trailing slash."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("workflows", views.WorkflowViewSet, basename="workflow")
router.register("templates", views.TemplateViewSet, basename="template")
router.register("tokens", views.ApiTokenViewSet, basename="token")
router.register("teams", teams_views.TeamViewSet, basename="team")

urlpatterns = [
    path("catalog", catalog_views.CatalogView.as_view(), name="catalog"),
    path("catalog/step-types", catalog_views.StepTypesView.as_view(), name="catalog-step-types"),
    path("catalog/models", catalog_views.ModelsView.as_view(), name="catalog-models"),
    path("catalog/functions", catalog_views.FunctionsView.as_view(), name="catalog-functions"),
    path("catalog/error-types", catalog_views.ErrorTypesView.as_view(), name="catalog-errors"),
    path(
        "schema/workflow-definition",
        views.DefinitionSchemaView.as_view(),
        name="definition-schema",
    ),
    path("users", teams_views.UserSearchView.as_view(), name="user-search"),
    re_path(r"^audit/?$", audit_views.AuditListView.as_view(), name="audit-list"),
    *router.urls,
]
