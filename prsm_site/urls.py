from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from executions import pages as run_pages
from executions.api import analytics_views
from executions.operations import views as operations
from workflows import pages
from workflows.api.errors import api_not_found

WF = "workflows/<str:workflow_id>/"

urlpatterns = [
    path("", pages.home, name="home"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("workflows/new/", pages.workflow_new, name="workflow-new"),
    path(WF, pages.workflow_editor, name="workflow-editor"),
    path(WF + "runs/", run_pages.workflow_runs, name="workflow-runs"),
    path(WF + "runs/<str:execution_id>/", run_pages.run_detail, name="run-detail"),
    # Page names end in "-page" where the API (DRF router) has a route of the same
    # stem: "workflow-versions" is the API list of versions.
    path(WF + "versions/", pages.workflow_versions, name="workflow-versions-page"),
    path(WF + "sharing/", pages.workflow_sharing, name="workflow-sharing"),
    path(WF + "analytics/", pages.insights.workflow_analytics, name="workflow-analytics"),
    path("templates/", pages.template_gallery, name="template-gallery"),
    path("settings/tokens/", pages.tokens, name="tokens"),
    path("teams/", pages.teams, name="teams"),
    path("models/", pages.models, name="models"),
    path("usage/", pages.insights.usage, name="usage"),
    path("audit/", pages.insights.audit, name="audit"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", pages.SignOutView.as_view(), name="logout"),
    path("workers/", operations.workers_page, name="workers-page"),
    path("healthz", operations.healthz, name="healthz"),
    path("readyz", operations.readyz, name="readyz"),
    path("metrics", operations.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # before the workflows API: "workflows/resource-usage" is not a workflow id
    re_path(
        r"^api/v1/workflows/resource-usage/?$",
        analytics_views.ResourceUsageView.as_view(),
        name="resource-usage",
    ),
    path("api/v1/", include("workflows.api.urls")),
    path("api/v1/", include("executions.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path(
        "api/docs/", SpectacularSwaggerSplitView.as_view(url_name="openapi-schema"), name="api-docs"
    ),
    # Last: an API path no route matched (a malformed id, an unknown endpoint) answers
    # JSON, not Django's HTML page. api/schema and api/docs keep their slash redirect.
    re_path(r"^api/(?!(?:schema|docs)$)", api_not_found, name="api-not-found"),
]
