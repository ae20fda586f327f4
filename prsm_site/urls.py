from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from workflows import pages

WF = "workflows/<str:workflow_id>/"

urlpatterns = [
    path("", pages.home, name="home"),
    path("workflows/new/", pages.workflow_new, name="workflow-new"),
    path(WF, pages.workflow_editor, name="workflow-editor"),
    path(WF + "runs/", pages.workflow_runs, name="workflow-runs"),
    path(WF + "runs/<str:execution_id>/", pages.run_detail, name="run-detail"),
    path(WF + "versions/", pages.workflow_versions, name="workflow-versions"),
    path(WF + "sharing/", pages.workflow_sharing, name="workflow-sharing"),
    path(WF + "analytics/", pages.insights.workflow_analytics, name="workflow-analytics"),
    path("templates/", pages.template_gallery, name="template-gallery"),
    path("settings/tokens/", pages.tokens, name="tokens"),
    path("teams/", pages.teams, name="teams"),
    path("usage/", pages.insights.usage, name="usage"),
    path("audit/", pages.insights.audit, name="audit"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", pages.SignOutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("workflows.api.urls")),
    path("api/v1/", include("executions.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="api-docs"),
]
