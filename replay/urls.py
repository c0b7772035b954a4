from __future__ import annotations

from django.urls import path, re_path

from replay import views

app_name = "replay"

urlpatterns = [
    path("b/<slug:slug>/replay/", views.replay_home, name="home"),
    path("b/<slug:slug>/replay/configs/new/", views.config_edit, name="config_new"),
    path("b/<slug:slug>/replay/configs/<slug:name>/", views.config_edit, name="config_edit"),
    path("b/<slug:slug>/replay/runs/<int:run_id>/", views.run_detail, name="run"),
    path("b/<slug:slug>/replay/runs/<int:run_id>/progress/", views.run_progress, name="progress"),
    path(
        "b/<slug:slug>/replay/runs/<int:run_id>/items/<int:item_id>/",
        views.item_detail,
        name="item",
    ),
    re_path(
        r"^b/(?P<slug>[-\w]+)/replay/runs/(?P<run_id>[0-9]+)/export\.(?P<fmt>csv|json)$",
        views.run_export,
        name="export",
    ),
]
