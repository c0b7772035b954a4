from django.urls import path, re_path

from rollout import views

app_name = "rollout"

urlpatterns = [
    path("", views.rollout_page, name="page"),
    re_path(
        r"^(?P<tool>[a-z0-9_]+)/(?P<kind>stage|experiment)/$", views.rollout_change, name="change"
    ),
]
