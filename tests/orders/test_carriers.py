"""Carrier connectors: AfterShip against a local server answering as its reference shows
(every tag, checkpoints, estimates, every fault), and the demo store's carrier feed."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from orders.carriers import carrier_for
from orders.carriers.aftership import API_VERSION, AfterShipConnector
from orders.carriers.base import (
    CarrierAuthError,
    CarrierBadResponse,
    CarrierCircuitOpen,
    CarrierNotConfigured,
    CarrierRateLimited,
    CarrierTimeout,
    CarrierUnavailable,
    TrackingNotFound,
)
from orders.carriers.demo import DemoCarrierFeed
from orders.carriers.lookup import Parcel, track_parcels
from orders.models import CarrierSource
from orders.schema import CarrierTracking, OrderStatus, TrackingEvent
from tests.factories import DemoOrderFactory, DemoShipmentFactory, DemoTrackingEventFactory
from tests.fakes.aftership import API_KEY, PREFIX, checkpoint, tracking

UTC = dt.UTC


def connector(fake, *, key: str = API_KEY, call_timeout: float = 2.0) -> AfterShipConnector:
    return AfterShipConnector(
        api_key=key, api_url=fake.url, call_timeout=call_timeout, source_key="t"
    )


def track(fake, number: str, carrier: str = "DHL Express", **kwargs) -> CarrierTracking:
    return connector(fake, **kwargs).track(tracking_number=number, carrier=carrier, timeout=5)


# --- every AfterShip tag, as vendor-shaped JSON -----------------------------------------

TAGS = [
    # number, tag, status, detail
    ("PEND0001", "Pending", None, "Pending (no information from the carrier yet)"),
    ("INFO0001", "InfoReceived", None, "InfoReceived (label created, no carrier scan yet)"),
    ("JD014600006281230701", "InTransit", OrderStatus.IN_TRANSIT, "InTransit"),
    ("OFD0001", "OutForDelivery", OrderStatus.OUT_FOR_DELIVERY, "OutForDelivery"),
    ("PICK0001", "AvailableForPickup", OrderStatus.OUT_FOR_DELIVERY, "AvailableForPickup"),
    ("FAIL0001", "AttemptFail", OrderStatus.DELIVERY_EXCEPTION, "AttemptFail: Failed Attempt"),
    ("DLV0001", "Delivered", OrderStatus.DELIVERED, "Delivered"),
    ("EXC0001", "Exception", OrderStatus.DELIVERY_EXCEPTION, "Exception: Address issue"),
    ("EXP0001", "Expired", OrderStatus.DELIVERY_EXCEPTION, "Expired"),
    ("RTS0001", "Exception", OrderStatus.RETURNED, "Exception: Returned to sender"),
    (
        "RTS0002",
        "Exception",
        OrderStatus.DELIVERY_EXCEPTION,
        "Exception: Returning to sender",
    ),
]


@pytest.mark.parametrize(("number", "tag", "status", "detail"), TAGS, ids=[t[0] for t in TAGS])
def test_each_aftership_tag_maps_to_an_order_status(aftership, number, tag, status, detail):
    report = track(aftership, number)

    assert report.source == "AfterShip" and report.error == ""
    assert report.status == status
    assert report.status_detail == detail
    assert next(t for t in aftership.trackings if t["tracking_number"] == number)["tag"] == tag


def test_the_lookup_is_a_get_by_tracking_number_and_courier_with_the_api_key(aftership):
    track(aftership, "JD014600006281230701", carrier="DHL Express")
    track(aftership, "1Z999AA10123456784", carrier="Some regional courier")

    first, second = aftership.tracking_requests()
    assert (first.method, first.path) == ("GET", f"/tracking/{API_VERSION}/trackings")
    assert first.query == {"tracking_numbers": "JD014600006281230701", "slug": "dhl"}
    assert first.headers["as-api-key"] == API_KEY
    # A carrier name with no known courier code is looked up by its number alone.
    assert second.query == {"tracking_numbers": "1Z999AA10123456784"}


def test_checkpoints_become_events_newest_first_with_their_places(aftership):
    report = track(aftership, "OFD0001")

    assert report.events == (
        TrackingEvent(dt.datetime(2026, 11, 23, 7, 45, tzinfo=UTC), "Out for delivery", ""),
        TrackingEvent(dt.datetime(2026, 11, 22, 4, tzinfo=UTC), "Arrived at hub", "Paris-Nord, FR"),
        TrackingEvent(
            dt.datetime(2026, 11, 21, 6, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "Departed facility",
            "Köln, DE",
        ),
        # No offset given: read as UTC.
        TrackingEvent(
            dt.datetime(2026, 11, 20, 9, tzinfo=UTC), "Shipment information received", ""
        ),
    )


def test_only_the_newest_checkpoints_are_kept(aftership):
    aftership.trackings = [
        tracking(
            "MANY0001",
            "InTransit",
            checkpoints=[
                checkpoint(f"2026-11-{day:02d}T08:00:00Z", f"Scan {day}") for day in range(1, 26)
            ],
        )
    ]

    report = track(aftership, "MANY0001")

    assert [e.description for e in report.events][:2] == ["Scan 25", "Scan 24"]
    assert len(report.events) == 10


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("JD014600006281230701", dt.date(2026, 11, 28)),  # latest estimate, one day
        ("PICK0001", dt.date(2026, 11, 26)),  # latest estimate as a range: its last day
        ("OFD0001", dt.date(2026, 11, 23)),  # only the carrier's own estimate
        ("DLV0001", None),
    ],
)
def test_expected_delivery_is_the_latest_estimate(aftership, number, expected):
    assert track(aftership, number).expected_delivery == expected


def test_a_parcel_aftership_does_not_track_is_not_found(aftership):
    with pytest.raises(TrackingNotFound) as error:
        track(aftership, "UNKNOWN0001")

    assert error.value.code == "carrier_tracking_not_found"
    assert len(aftership.requests) == 1


def test_a_number_of_another_courier_is_not_taken_for_this_one(aftership):
    # AfterShip tracks 1Z999AA10123456784 with UPS; asked for DHL, it answers nothing.
    with pytest.raises(TrackingNotFound):
        track(aftership, "1Z999AA10123456784", carrier="DHL")


@pytest.mark.parametrize("number", ["A,B,C", "JD01, 1Z999", "x", "abc?slug=ups"])
def test_a_number_that_could_widen_the_query_is_never_sent(aftership, number):
    with pytest.raises(TrackingNotFound):
        track(aftership, number)

    assert aftership.requests == []


def test_a_tracking_in_an_unexpected_shape_is_a_bad_response(aftership):
    aftership.trackings[2]["checkpoints"][0]["checkpoint_time"] = "yesterday"

    with pytest.raises(CarrierBadResponse) as error:
        track(aftership, "JD014600006281230701")

    assert error.value.code == "carrier_bad_response"


def test_an_api_key_is_required():
    with pytest.raises(CarrierNotConfigured):
        AfterShipConnector(api_key="", call_timeout=1, source_key="t")


def test_check_answers_with_a_valid_key_and_refuses_a_wrong_one(aftership):
    connector(aftership).check(timeout=2)
    assert aftership.requests[-1].path == f"{PREFIX}/couriers"

    with pytest.raises(CarrierAuthError):
        connector(aftership, key="asat_wrong").check(timeout=2)


# --- faults: each a typed error with its own code -----------------------------------------


def test_wrong_key_is_an_auth_error_never_retried(aftership):
    with pytest.raises(CarrierAuthError) as error:
        track(aftership, "DLV0001", key="asat_wrong")

    assert error.value.code == "carrier_auth_failed"
    assert len(aftership.requests) == 1


def test_403_is_an_auth_error(aftership):
    aftership.fail("403")

    with pytest.raises(CarrierAuthError):
        track(aftership, "DLV0001")


def test_a_400_envelope_is_a_bad_response(aftership):
    aftership.fail("400")

    with pytest.raises(CarrierBadResponse) as error:
        track(aftership, "DLV0001")

    assert error.value.code == "carrier_bad_response"


def test_429_is_retried_after_the_wait_aftership_asks_for(aftership):
    aftership.retry_after = "0.3"
    aftership.fail("429", times=1)

    started = time.monotonic()
    report = track(aftership, "DLV0001")

    assert report.status == OrderStatus.DELIVERED
    assert time.monotonic() - started >= 0.3
    assert len(aftership.requests) == 2


def test_429_that_lasts_is_a_throttled_error(aftership):
    aftership.retry_after = "30"  # past the lookup's deadline: not waited for
    aftership.fail("429", times=None)

    started = time.monotonic()
    with pytest.raises(CarrierRateLimited) as error:
        track(aftership, "DLV0001")

    assert error.value.code == "carrier_throttled"
    assert time.monotonic() - started < 1


def test_500_then_success_is_retried(aftership):
    aftership.fail("500", times=2)

    assert track(aftership, "DLV0001").status == OrderStatus.DELIVERED
    assert len(aftership.requests) == 3


def test_5xx_every_time_gives_up_after_bounded_retries(aftership, settings):
    settings.ORDERS_HTTP_MAX_RETRIES = 2
    aftership.fail("503", times=None)

    with pytest.raises(CarrierUnavailable) as error:
        track(aftership, "DLV0001")

    assert error.value.code == "carrier_unavailable"
    assert len(aftership.requests) == 3


def test_a_slow_answer_is_a_timeout(aftership):
    aftership.fail("timeout", times=None)

    started = time.monotonic()
    with pytest.raises(CarrierTimeout) as error:
        track(aftership, "DLV0001", call_timeout=0.3)

    assert error.value.code == "carrier_timeout"
    assert time.monotonic() - started < 1


def test_malformed_json_is_a_bad_response(aftership):
    aftership.fail("malformed", times=None)

    with pytest.raises(CarrierBadResponse):
        track(aftership, "DLV0001")


def test_the_breaker_opens_after_repeated_failures_and_skips_the_call(aftership, settings):
    settings.ORDERS_CIRCUIT_FAILURES = 2
    settings.ORDERS_HTTP_MAX_RETRIES = 0
    aftership.fail("500", times=None)
    for _ in range(2):
        with pytest.raises(CarrierUnavailable):
            track(aftership, "DLV0001")

    with pytest.raises(CarrierCircuitOpen) as error:
        track(aftership, "DLV0001")

    assert error.value.code == "carrier_circuit_open"
    assert "carrier tracking service" in error.value.message
    assert len(aftership.requests) == 2


# --- several parcels at once --------------------------------------------------------------


def test_parcels_are_looked_up_concurrently(aftership):
    aftership.latency = 0.2
    parcels = [
        Parcel("JD014600006281230701", "DHL Express"),
        Parcel("OFD0001", "DHL"),
        Parcel("DLV0001", "DHL"),
    ]

    started = time.monotonic()
    reports = track_parcels(connector(aftership), parcels, deadline=time.monotonic() + 5)
    elapsed = time.monotonic() - started

    assert [reports[p].status for p in parcels] == [
        OrderStatus.IN_TRANSIT,
        OrderStatus.OUT_FOR_DELIVERY,
        OrderStatus.DELIVERED,
    ]
    assert elapsed < 0.45  # not 3 x 200 ms


def test_a_failed_lookup_is_a_report_with_its_code_never_an_exception(aftership):
    reports = track_parcels(
        connector(aftership),
        [Parcel("DLV0001", "DHL"), Parcel("NOPE0001", "DHL")],
        deadline=time.monotonic() + 5,
    )

    assert reports[Parcel("DLV0001", "DHL")].status == OrderStatus.DELIVERED
    missing = reports[Parcel("NOPE0001", "DHL")]
    assert missing.error == "carrier_tracking_not_found" and missing.status is None


def test_a_lookup_still_running_at_the_deadline_is_cut(aftership):
    aftership.hang_seconds = 3.0
    aftership.fail("timeout", times=None)

    started = time.monotonic()
    reports = track_parcels(
        connector(aftership, call_timeout=10),
        [Parcel("DLV0001", "DHL")],
        deadline=time.monotonic() + 0.4,
    )

    assert reports[Parcel("DLV0001", "DHL")].error == "carrier_timeout"
    assert time.monotonic() - started < 0.7


def test_no_time_left_asks_nothing(aftership):
    reports = track_parcels(
        connector(aftership), [Parcel("DLV0001", "DHL")], deadline=time.monotonic() - 1
    )

    assert reports[Parcel("DLV0001", "DHL")].error == "carrier_timeout"
    assert aftership.requests == []


def test_a_crashing_connector_is_reported_not_raised():
    class Broken:
        label = "Broken"

        def track(self, **kwargs) -> CarrierTracking:
            raise RuntimeError("bug")

        def check(self, *, timeout: float) -> None: ...

    reports = track_parcels(Broken(), [Parcel("X123", "DHL")], deadline=time.monotonic() + 1)

    assert reports[Parcel("X123", "DHL")].error == "carrier_failed"


# --- the demo store's carrier feed --------------------------------------------------------


@pytest.mark.django_db
def test_demo_feed_reports_the_carriers_view_of_a_demo_parcel(brand, django_assert_num_queries):
    order = DemoOrderFactory(brand=brand)
    agrees = DemoShipmentFactory(order=order, tracking_number="DEMO-AGREE", status="in_transit")
    stuck = DemoShipmentFactory(
        order=order,
        tracking_number="DEMO-STUCK",
        status="in_transit",
        carrier_status="delivery_exception",
        carrier_expected_delivery=dt.date(2026, 12, 1),
    )
    older = DemoTrackingEventFactory(
        shipment=stuck, time=dt.datetime(2026, 11, 20, 8, tzinfo=UTC), description="Picked up"
    )
    newer = DemoTrackingEventFactory(
        shipment=stuck, time=dt.datetime(2026, 11, 21, 8, tzinfo=UTC), description="Held"
    )

    feed = DemoCarrierFeed(brand, tracking_numbers=["DEMO-AGREE", "DEMO-STUCK"])
    with django_assert_num_queries(0):  # it may run in a pool thread
        same = feed.track(tracking_number="DEMO-AGREE", carrier=agrees.carrier, timeout=1)
        report = feed.track(tracking_number="DEMO-STUCK", carrier="dhl", timeout=1)

    assert same.status == OrderStatus.IN_TRANSIT and same.events == ()
    assert report.source == "Demo carrier feed"
    assert report.status == OrderStatus.DELIVERY_EXCEPTION
    assert report.expected_delivery == dt.date(2026, 12, 1)
    assert [e.description for e in report.events] == [newer.description, older.description]
    with pytest.raises(TrackingNotFound):
        feed.track(tracking_number="DEMO-OTHER", carrier="DHL", timeout=1)


@pytest.mark.django_db
def test_demo_feed_only_knows_its_brands_parcels(brand):
    other = DemoShipmentFactory(tracking_number="OTHER-BRAND")

    feed = DemoCarrierFeed(brand, tracking_numbers=["OTHER-BRAND"])

    with pytest.raises(TrackingNotFound):
        feed.track(tracking_number="OTHER-BRAND", carrier=other.carrier, timeout=1)


@pytest.mark.django_db
def test_a_source_with_no_lookups_has_no_connector(brand):
    with pytest.raises(CarrierNotConfigured):
        carrier_for(CarrierSource(brand=brand, kind=CarrierSource.Kind.NONE))
