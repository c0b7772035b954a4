from django.urls import path, re_path

from audit import views

urlpatterns = [
    path("queue/", views.review_queue, name="audit_queue"),
    path("traces/", views.trace_list, name="audit_traces"),
    path("traces/<int:trace_id>/", views.trace_review, name="audit_trace"),
    path("traces/<int:trace_id>/reviews/", views.review_create, name="audit_review_create"),
    path("traces/<int:trace_id>/approve/", views.draft_approve, name="audit_draft_approve"),
    path("b/<slug:slug>/metrics/", views.metrics, name="audit_metrics"),
    re_path(
        r"^b/(?P<slug>[-a-zA-Z0-9_]+)/metrics\.(?P<fmt>csv|jsonl)$",
        views.metrics_export,
        name="audit_metrics_export",
    ),
]
