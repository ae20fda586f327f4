from django.urls import re_path

from executions.api import (
    analytics_views,
    model_endpoint_views,
    model_views,
    uploads,
    views,
    workers,
)
from workflows.api.urls import OptionalSlashRouter

WF = r"^workflows/(?P<workflow_id>[A-Za-z0-9_]+)"
EX = WF + r"/executions/(?P<execution_id>[A-Za-z0-9_]+)"

router = OptionalSlashRouter()
router.register(
    "model-endpoints", model_endpoint_views.ModelEndpointViewSet, basename="model-endpoint"
)

urlpatterns = [
    *router.urls,
    re_path(r"^catalog/models/test/?$", model_views.ModelTestView.as_view(), name="model-test"),
    re_path(r"^workers/?$", workers.WorkersView.as_view(), name="workers"),
    re_path(r"^files/?$", uploads.FileListView.as_view(), name="file-list"),
    re_path(
        r"^files/(?P<file_id>[A-Za-z0-9_]+)/?$",
        uploads.FileDetailView.as_view(),
        name="file-detail",
    ),
    re_path(
        r"^executions/(?P<execution_id>[A-Za-z0-9_]+)/?$",
        views.ExecutionByIdView.as_view(),
        name="execution-by-id",
    ),
    re_path(WF + r"/execute/?$", views.ExecuteView.as_view(), name="workflow-execute"),
    re_path(WF + r"/test/?$", views.TestRunView.as_view(), name="workflow-test"),
    re_path(WF + r"/webhook-secret/?$", views.WebhookSecretView.as_view(), name="webhook-secret"),
    re_path(WF + r"/analytics/?$", analytics_views.AnalyticsView.as_view(), name="analytics"),
    re_path(WF + r"/optimize/?$", analytics_views.OptimizeView.as_view(), name="optimize"),
    re_path(WF + r"/executions/?$", views.ExecutionListView.as_view(), name="execution-list"),
    re_path(EX + r"/?$", views.ExecutionDetailView.as_view(), name="execution-detail"),
    re_path(EX + r"/cancel/?$", views.ExecutionCancelView.as_view(), name="execution-cancel"),
    re_path(EX + r"/resume/?$", views.ExecutionResumeView.as_view(), name="execution-resume"),
]
