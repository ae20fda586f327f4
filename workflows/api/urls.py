from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.api import views


class OptionalSlashRouter(SimpleRouter):
    """Accept the seed's paths (``/workflows/{id}``) with or without a trailing slash."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("workflows", views.WorkflowViewSet, basename="workflow")
router.register("templates", views.TemplateViewSet, basename="template")
router.register("tokens", views.ApiTokenViewSet, basename="token")

urlpatterns = [
    path(
        "schema/workflow-definition",
        views.DefinitionSchemaView.as_view(),
        name="definition-schema",
    ),
    *router.urls,
]
