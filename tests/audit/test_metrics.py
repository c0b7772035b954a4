"""The metrics page and its exports on a seeded set whose every figure is known, the A/B
report against published values, and the pure statistics underneath."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import stats
from audit.models import DailyRollup, Review, Span, Trace
from audit.selectors import METRIC_COLUMNS, ArmMetrics, brand_metrics, experiment_report
from audit.services import review_submit, rollup_refresh, rollup_refresh_recent
from copilot.models import Draft, Role, Ticket
from orders.quality import FINDING_CODES

pytestmark = pytest.mark.django_db

N = 1000
BODY = "abcdefghij"
SENT = {"treatment": "abcdefghiX", "control": "abcdeXXXXX"}  # distances 0.1 and 0.5


def spec(i: int) -> dict:
    """Trace i of the seeded set (even i: treatment, odd i: control)."""
    arm = "treatment" if i % 2 == 0 else "control"
    decision = {0: "accepted", 1: "accepted", 2: "accepted", 3: "accepted", 4: "accepted"}
    decision.update({5: "accepted", 6: "edited", 7: "edited", 8: "rejected", 9: ""})
    verdicts = []
    if i % 8 == 0:
        verdicts = ["bad_answer", "unnecessary_call"] if i % 16 == 0 else ["tool_helped"]
    elif i % 50 == 1:
        verdicts = ["missed_call"]
    return {
        "day": 0 if i < 400 else 1,  # 0: yesterday, 1: today
        "arm": arm,
        "decision": decision[i % 10],
        "tool_calls": 1 if arm == "treatment" else 0,
        "tool_error": i % 20 == 0,
        "safeguard": i % 25 == 1,
        "grounding": ("grounded" if i % 4 == 0 else "unverified")
        if arm == "treatment"
        else "generative",
        "latency": 100 * (1 + i % 10),
        "tokens_in": 300 if arm == "treatment" else 100,
        "tokens_out": 10,
        "cost": Decimal("0.002") if arm == "treatment" else Decimal("0.001"),
        "sensitive": i % 8 == 0,
        "verdicts": verdicts,
        # What the order data of a treatment draft showed (orders.quality codes); i % 10 == 4
        # sees its finding in two tool calls and still counts once.
        "findings": (
            ["status_conflict", "eta_passed"]
            if i % 20 == 10
            else ["no_movement"]
            if i % 10 == 4
            else []
        ),
    }


@pytest.fixture
def seeded(brand):
    """1,000 traces over two UTC days: 600 accepted as is, 200 edited, 100 rejected, 100
    undecided; drafts, traces, spans and reviews as `spec` says, then the rollup."""
    today = timezone.now().astimezone(dt.UTC).date()
    days = [today - dt.timedelta(days=1), today]
    specs = [spec(i) for i in range(N)]
    for day_index, day in enumerate(days):
        # Noon, or for today a little before now: nothing the rollup reads is newer than it.
        moment = max(
            dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC),
            min(
                dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
                timezone.now() - dt.timedelta(minutes=2),
            ),
        )
        indexes = [i for i in range(N) if specs[i]["day"] == day_index]
        with mock.patch("django.utils.timezone.now", return_value=moment):
            tickets = Ticket.objects.bulk_create(
                Ticket(brand=brand, external_id=f"m-{i}", subject="Where is my order?")
                for i in indexes
            )
            drafts = Draft.objects.bulk_create(
                Draft(
                    ticket=ticket,
                    status="ready",
                    body=BODY,
                    decision=specs[i]["decision"],
                    final_text={"accepted": BODY, "edited": SENT[specs[i]["arm"]]}.get(
                        specs[i]["decision"], ""
                    ),
                    decided_at=moment if specs[i]["decision"] else None,
                )
                for i, ticket in zip(indexes, tickets, strict=True)
            )
            traces = Trace.objects.bulk_create(
                Trace(
                    brand=brand,
                    ticket=draft.ticket,
                    draft=draft,
                    provider="rules",
                    plan={"arm": specs[i]["arm"]},
                    arm=specs[i]["arm"],
                    outcome="answered",
                    tool_calls_count=specs[i]["tool_calls"],
                    tools_used=["fetch_orders"] if specs[i]["tool_calls"] else [],
                    tokens_in=specs[i]["tokens_in"],
                    tokens_out=specs[i]["tokens_out"],
                    cost=specs[i]["cost"],
                    latency_ms=specs[i]["latency"],
                    grounding=specs[i]["grounding"],
                    sensitive=specs[i]["sensitive"],
                )
                for i, draft in zip(indexes, drafts, strict=True)
            )
            spans = []
            for i, trace in zip(indexes, traces, strict=True):
                s = specs[i]
                spans.append(Span(trace=trace, seq=1, kind="llm", name="chat", started_at=moment))
                if s["tool_calls"]:
                    status = "error" if s["tool_error"] else "ok"
                    spans.append(
                        Span(
                            trace=trace,
                            seq=2,
                            kind="tool",
                            name="fetch_orders",
                            status=status,
                            attributes={"findings": s["findings"]} if status == "ok" else {},
                            started_at=moment,
                        )
                    )
                if i % 10 == 4 and s["findings"]:
                    spans.append(
                        Span(
                            trace=trace,
                            seq=5,
                            kind="tool",
                            name="fetch_orders",
                            attributes={"findings": s["findings"]},
                            started_at=moment,
                        )
                    )
                if s["safeguard"]:
                    spans.append(
                        Span(
                            trace=trace,
                            seq=3,
                            kind="guardrail",
                            name="repeated_call",
                            status="blocked",
                            started_at=moment,
                        )
                    )
                # A safeguard step that passed is not a safeguard event.
                spans.append(
                    Span(
                        trace=trace,
                        seq=4,
                        kind="guardrail",
                        name="grounding_check",
                        status="ok",
                        started_at=moment,
                    )
                )
            Span.objects.bulk_create(spans)
            Review.objects.bulk_create(
                Review(trace=trace, verdict=verdict)
                for i, trace in zip(indexes, traces, strict=True)
                for verdict in specs[i]["verdicts"]
            )
    for day in days:
        rollup_refresh(brand_id=brand.pk, day=day)
    return days, specs


def oracle(specs: list[dict], keep) -> dict:
    """The figures computed naively from the seed itself (exact percentiles, no rollup)."""
    rows = [s for s in specs if keep(s)]
    decided = [s for s in rows if s["decision"]]
    accepted = sum(s["decision"] == "accepted" for s in rows)
    edited = [s for s in rows if s["decision"] == "edited"]
    latencies = sorted(s["latency"] for s in rows)
    verdicts = [s["verdicts"][-1] for s in rows if s["verdicts"]]

    def nearest_rank(p):
        return latencies[math.ceil(p / 100 * len(latencies)) - 1]

    distance = {"treatment": 0.1, "control": 0.5}
    return {
        "drafts": len(rows),
        "accepted": accepted,
        "edited": len(edited),
        "rejected": sum(s["decision"] == "rejected" for s in rows),
        "undecided": len(rows) - len(decided),
        "acceptance_rate": round(accepted / len(decided), 4),
        "mean_edit_distance": round(sum(distance[s["arm"]] for s in edited) / len(edited), 4),
        "with_tool_calls": sum(s["tool_calls"] > 0 for s in rows),
        "tool_call_rate": round(sum(s["tool_calls"] > 0 for s in rows) / len(rows), 4),
        "tool_calls": sum(s["tool_calls"] for s in rows),
        "unnecessary_calls": verdicts.count("unnecessary_call"),
        "missed_calls": verdicts.count("missed_call"),
        "tool_errors": sum(s["tool_error"] and s["tool_calls"] > 0 for s in rows),
        "safeguard_events": sum(s["safeguard"] for s in rows),
        "grounded": sum(s["grounding"] == "grounded" for s in rows),
        "generative": sum(s["grounding"] == "generative" for s in rows),
        "unverified": sum(s["grounding"] == "unverified" for s in rows),
        "sensitive": sum(s["sensitive"] for s in rows),
        "reviewed": len(verdicts),
        "latency_p50_ms": nearest_rank(50),
        "latency_p95_ms": nearest_rank(95),
        "tokens_in": sum(s["tokens_in"] for s in rows),
        "tokens_out": sum(s["tokens_out"] for s in rows),
        "cost": str(sum((s["cost"] for s in rows), Decimal(0)).quantize(Decimal("0.000001"))),
        **{f"findings_{code}": sum(code in s["findings"] for s in rows) for code in FINDING_CODES},
    }


# Hand-written totals of the seed, so the oracle itself is checked too.
EXPECTED_ALL = {
    "drafts": 1000,
    "accepted": 600,
    "edited": 200,
    "rejected": 100,
    "undecided": 100,
    "acceptance_rate": 0.6667,  # 600 / 900
    "mean_edit_distance": 0.3,
    "with_tool_calls": 500,
    "tool_call_rate": 0.5,
    "tool_calls": 500,
    "unnecessary_calls": 63,  # i = 0, 16, ..., 992
    "missed_calls": 20,  # i = 1, 51, ..., 951
    "tool_errors": 50,  # i = 0, 20, ..., 980
    "safeguard_events": 40,  # i = 1, 26, ..., 976
    "grounded": 250,
    "generative": 500,
    "unverified": 250,
    "sensitive": 125,
    "reviewed": 145,
    "latency_p50_ms": 500,
    "latency_p95_ms": 1000,
    "tokens_in": 200_000,
    "tokens_out": 10_000,
    "cost": "1.500000",
    "findings_status_conflict": 50,  # i = 10, 30, ..., 990
    "findings_no_movement": 100,  # i = 4, 14, ..., 994
    "findings_eta_passed": 50,
    "findings_missing_tracking": 0,
    "findings_no_carrier_scan": 0,
    "findings_refunded_but_fulfilled": 0,
    "findings_cancelled_but_fulfilled": 0,
    "findings_partial_response": 0,
    "findings_stale_data": 0,
}


def _text(value) -> str:
    return "" if value is None else str(value)


def page_cells(html: str) -> dict[tuple[str, str, str], str]:
    """(day or 'all', arm, metric) -> data-value of every metric cell on the page."""
    cells = {}
    pattern = r'<td (?:data-day="([^"]+)" )?data-metric="([^"]+)" data-arm="([^"]+)" data-value="([^"]*)">'
    for day, metric, arm, value in re.findall(pattern, html):
        key = (day or "all", arm, metric)
        assert key not in cells, key
        cells[key] = value
    return cells


def finding_cells(html: str) -> dict[tuple[str, str], str]:
    """(arm, metric) -> the shown count of every cell of the order-data problems table."""
    pattern = r'<td data-finding="([^"]+)" data-arm="([^"]+)">([^<]*)<'
    return {(arm, metric): value for metric, arm, value in re.findall(pattern, html)}


def expected_rows(days, specs) -> list[dict]:
    rows = []
    for day_index in (1, 0):
        for arm in ("control", "treatment"):
            rows.append(
                {
                    "day": days[day_index].isoformat(),
                    "arm": arm,
                    **oracle(specs, lambda s, d=day_index, a=arm: s["day"] == d and s["arm"] == a),
                }
            )
    for arm in ("control", "treatment"):
        rows.append({"day": "all", "arm": arm, **oracle(specs, lambda s, a=arm: s["arm"] == a)})
    rows.append({"day": "all", "arm": "all", **oracle(specs, lambda s: True)})
    return rows


def test_the_oracle_matches_the_hand_counted_totals(seeded):
    _, specs = seeded
    assert oracle(specs, lambda s: True) == EXPECTED_ALL


METRICS_QUERIES = 8


def test_every_number_on_the_metrics_page_is_the_expected_one(brand, member, seeded):
    days, specs = seeded
    client, _ = member(brand, Role.LEAD)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("audit_metrics", args=[brand.slug]), {"days": 30})

    assert response.status_code == 200
    html = response.content.decode()
    expected = {
        (row["day"], row["arm"], metric): _text(row[metric])
        for row in expected_rows(days, specs)
        for metric in METRIC_COLUMNS
    }
    assert page_cells(html) == expected
    # Drafts per problem in the order data, per arm, each problem named in words.
    totals = {row["arm"]: row for row in expected_rows(days, specs) if row["day"] == "all"}
    assert finding_cells(html) == {
        (arm, f"findings_{code}"): str(totals[arm][f"findings_{code}"])
        for arm in ("all", "control", "treatment")
        for code in FINDING_CODES
    }
    assert finding_cells(html)[("treatment", "findings_no_movement")] == "100"
    assert "No carrier scan for days while in transit" in html
    assert "findings_no_movement<" not in html and "no_movement<" not in html
    # The shown text agrees with the data: counts as is, rates in percent.
    assert 'data-metric="accepted" data-arm="all" data-value="600">600<' in html
    assert 'data-metric="acceptance_rate" data-arm="all" data-value="0.6667">66.7 %<' in html
    # Not per trace: the session, its user, the membership, the rollup rows, the days changed
    # since they were written (by new traces, by decisions, by reviews: none here), the brands.
    assert len(queries) == METRICS_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)


def test_both_exports_hold_the_same_numbers(brand, member, seeded):
    days, specs = seeded
    client, _ = member(brand, Role.LEAD)
    expected = [
        {"brand": brand.slug, **{k: _text(v) for k, v in row.items()}}
        for row in expected_rows(days, specs)
    ]

    csv_response = client.get(reverse("audit_metrics_export", args=[brand.slug, "csv"]))
    jsonl_response = client.get(reverse("audit_metrics_export", args=[brand.slug, "jsonl"]))

    assert csv_response["Content-Type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(csv_response.content.decode()))) == expected
    lines = b"".join(jsonl_response.streaming_content).decode().splitlines()
    assert [{k: _text(v) for k, v in json.loads(line).items()} for line in lines] == expected
    first = json.loads(lines[-1])
    assert first["accepted"] == 600 and first["acceptance_rate"] == 0.6667


def test_the_ab_report_on_the_page(brand, member, seeded):
    client, _ = member(brand, Role.LEAD)

    html = client.get(reverse("audit_metrics", args=[brand.slug])).content.decode()

    # treatment 300 / 500 decided, control 300 / 400 decided
    diff = stats.newcombe_difference(300, 500, 300, 400)
    assert 'data-ab="treatment_accepted">300<' in html and 'data-ab="control_decided">400<' in html
    assert re.search(r'data-ab="difference" data-value="-0\.150000">-15\.0 points', html)
    assert f'data-ab="ci_low" data-value="{diff.low:.6f}"' in html
    assert f'data-ab="ci_high" data-value="{diff.high:.6f}"' in html
    assert "Treatment is worse." in html  # the whole interval is below 0
    assert diff.high < 0


def test_newcombe_interval_matches_the_published_and_hand_computed_cases():
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10.
    published = stats.newcombe_difference(56, 70, 48, 80)
    assert (round(published.low, 4), round(published.high, 4)) == (0.0524, 0.3339)
    small = stats.newcombe_difference(9, 10, 3, 10)
    assert (round(small.low, 4), round(small.high, 4)) == (0.1705, 0.8090)
    # By hand for 300/500 vs 300/400 (z = 1.959964):
    # Wilson(300, 500) = (0.556454, 0.642021); Wilson(300, 400) = (0.705323, 0.789921)
    # low  = -0.15 - sqrt((0.6 - 0.556454)^2 + (0.789921 - 0.75)^2) = -0.209076
    # high = -0.15 + sqrt((0.642021 - 0.6)^2 + (0.75 - 0.705323)^2) = -0.088666
    case = stats.newcombe_difference(300, 500, 300, 400)
    assert case.difference == pytest.approx(-0.15)
    assert case.low == pytest.approx(-0.209076, abs=2e-6)
    assert case.high == pytest.approx(-0.088666, abs=2e-6)


def test_not_enough_data_yet_below_the_minimum_sample():
    treatment = ArmMetrics(drafts=40, accepted=25, edited=4)  # 29 decided
    control = ArmMetrics(drafts=100, accepted=50, rejected=50)

    report = experiment_report(treatment, control, min_decided=30)

    assert not report.enough_data and report.difference is None
    treatment.rejected = 1
    assert experiment_report(treatment, control, min_decided=30).enough_data


def test_the_page_says_not_enough_data_yet(brand, member, make_trace):
    client, _ = member(brand, Role.LEAD)
    make_trace(brand)
    rollup_refresh(brand_id=brand.pk, day=timezone.now().astimezone(dt.UTC).date())

    html = client.get(reverse("audit_metrics", args=[brand.slug])).content.decode()

    assert 'data-ab="not_enough"' in html and "Not enough data yet" in html
    assert 'data-ab="difference"' not in html


def test_the_recent_refresh_catches_up_with_a_decision_on_an_old_trace(brand, seeded):
    days, _ = seeded
    draft = Draft.objects.filter(ticket__brand=brand, decision="").order_by("id").first()
    day = draft.trace.created_at.astimezone(dt.UTC).date()
    Draft.objects.filter(pk=draft.pk).update(
        decision="rejected", decided_at=timezone.now() + dt.timedelta(minutes=1)
    )

    assert rollup_refresh_recent() >= 1

    row = DailyRollup.objects.get(brand=brand, day=day, arm=draft.trace.arm)
    assert (
        row.rejected
        == sum(
            1
            for s in [spec(i) for i in range(N)]
            if s["decision"] == "rejected" and s["arm"] == draft.trace.arm and days[s["day"]] == day
        )
        + 1
    )


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] in WRITE_STATEMENTS]


WRITE_STATEMENTS = {"INSERT", "UPDATE", "DELETE", "REPLACE"}


def test_without_a_worker_the_metrics_page_reads_changed_days_live_and_writes_nothing(
    brand, member, make_trace
):
    client, lead = member(brand, Role.LEAD)
    trace = make_trace(brand, latency_ms=730)
    assert not DailyRollup.objects.exists()  # a draft does not pay for its day's recompute
    url = reverse("audit_metrics", args=[brand.slug])

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    assert _writes(queries) == [] and not DailyRollup.objects.exists()
    row = response.context["m"].arms["treatment"]
    assert row.drafts == 1 and row.accepted == 0 and row.latency_p50 == 730

    Draft.objects.filter(pk=trace.draft_id).update(decision="accepted", decided_at=timezone.now())
    review_submit(trace=trace, user=lead, verdict="tool_helped")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert _writes(queries) == [] and not DailyRollup.objects.exists()
    row = response.context["m"].arms["treatment"]
    assert (row.accepted, row.reviewed, row.verdicts) == (1, 1, {"tool_helped": 1})


def test_a_day_changed_after_its_rollup_was_written_is_read_live_until_the_next_refresh(
    brand, make_trace
):
    trace = make_trace(brand)
    today = trace.created_at.astimezone(dt.UTC).date()
    rollup_refresh(brand_id=brand.pk, day=today)
    DailyRollup.objects.filter(brand=brand).update(
        updated_at=timezone.now() - dt.timedelta(hours=1)
    )

    Draft.objects.filter(pk=trace.draft_id).update(decision="rejected", decided_at=timezone.now())

    live = brand_metrics(brand, start=today, end=today).arms["treatment"]
    assert (live.drafts, live.rejected) == (1, 1)
    assert DailyRollup.objects.get(brand=brand).rejected == 0  # nothing was written


def test_with_a_worker_the_metrics_read_the_rollup_the_worker_keeps(brand, make_trace):
    trace = make_trace(brand)
    today = trace.created_at.astimezone(dt.UTC).date()

    with mock.patch("audit.selectors.has_workers", return_value=True):
        assert "treatment" not in brand_metrics(brand, start=today, end=today).arms
        rollup_refresh(brand_id=brand.pk, day=today)
        assert brand_metrics(brand, start=today, end=today).arms["treatment"].drafts == 1

    assert DailyRollup.objects.get(brand=brand).drafts == 1


# --- statistics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("Saturday", "Sunday", 3),
        ("café", "cafe", 1),
        ("same", "same", 0),
    ],
)
def test_levenshtein(a, b, distance):
    assert stats.levenshtein(a, b) == distance
    assert stats.levenshtein(b, a) == distance


def test_normalized_edit_distance_is_between_0_and_1():
    assert stats.normalized_edit_distance("", "") == 0
    assert stats.normalized_edit_distance("kitten", "sitting") == pytest.approx(3 / 7)
    assert stats.normalized_edit_distance("abc", "xyz") == 1


def test_histogram_percentiles_are_nearest_rank_on_bucket_edges():
    hist = stats.histogram([10, 20, 30, 40, 1000, 1500, 250_000])
    assert stats.histogram_percentile(hist, 50) == 40
    assert stats.histogram_percentile(hist, 80) == 1500
    assert stats.histogram_percentile(hist, 95) == -1  # over 120 s
    assert stats.histogram_percentile({}, 50) is None
    assert stats.latency_bucket(1001) == "1100" and stats.latency_bucket(0) == "0"
