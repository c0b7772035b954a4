from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from audit import views as audit_views
from copilot import views, webhooks
from copilot.helpdesks import VENDORS
from copilot.helpdesks import views as helpdesk_views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("b/<slug:slug>/", views.inbox, name="inbox"),
    path("b/<slug:slug>/rollout/", include("rollout.urls")),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/regenerate/", views.ticket_regenerate, name="ticket_regenerate"),
    path("drafts/<int:draft_id>/", views.draft_panel, name="draft_panel"),
    re_path(
        r"^drafts/(?P<draft_id>[0-9]+)/(?P<action>accept|edit|reject)/$",
        views.draft_decide,
        name="draft_decide",
    ),
    path("traces/<int:trace_id>/", audit_views.trace_detail, name="trace"),
    path("api/v1/tickets", views.api_ticket_create, name="api_ticket_create"),
    path("", include("orders.urls")),
    path("", include("replay.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
    # Helpdesk integrations: signed webhooks in, settings, write-back status.
    re_path(
        rf"^hooks/(?P<kind>{'|'.join(VENDORS)})/(?P<slug>[-a-zA-Z0-9_]+)/$",
        webhooks.helpdesk_webhook,
        name="helpdesk_webhook",
    ),
    path("b/<slug:slug>/helpdesk/", helpdesk_views.helpdesk_settings, name="helpdesk_settings"),
    path("b/<slug:slug>/helpdesk/test/", helpdesk_views.helpdesk_test, name="helpdesk_test"),
    path("drafts/<int:draft_id>/delivery/", helpdesk_views.delivery_status, name="delivery_status"),
]
