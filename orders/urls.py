from django.urls import path

from orders import views

urlpatterns = [
    path("b/<slug:slug>/settings/orders/", views.source_settings, name="order_source_settings"),
    path("b/<slug:slug>/settings/orders/test/", views.source_test, name="order_source_test"),
    path(
        "b/<slug:slug>/settings/orders/carrier/",
        views.carrier_settings,
        name="order_carrier_settings",
    ),
    path(
        "b/<slug:slug>/settings/orders/carrier/test/",
        views.carrier_test,
        name="order_carrier_test",
    ),
]
