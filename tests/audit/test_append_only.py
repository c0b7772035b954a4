"""Traces cannot be changed or deleted, except by the retention purge."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.exceptions import TraceImmutable
from audit.models import Review, Span, Trace
from audit.services import traces_purge
from replay.models import ReplayConfiguration, ReplayItem, ReplayResult, ReplayRun
from tests.factories import DraftFactory

pytestmark = pytest.mark.django_db


def test_the_orm_refuses_to_change_or_delete_a_trace_or_span(brand, make_trace):
    trace = make_trace(brand)
    span = trace.spans.get()

    trace.outcome = Trace.Outcome.FAILED
    with pytest.raises(TraceImmutable):
        trace.save()
    with pytest.raises(TraceImmutable):
        Trace.objects.filter(pk=trace.pk).update(outcome="failed")
    with pytest.raises(TraceImmutable):
        Trace.objects.bulk_update([trace], ["outcome"])
    with pytest.raises(TraceImmutable):
        trace.delete()
    with pytest.raises(TraceImmutable):
        Span.objects.filter(pk=span.pk).delete()
    span.name = "other"
    with pytest.raises(TraceImmutable):
        span.save()

    trace.refresh_from_db()
    assert trace.outcome == Trace.Outcome.ANSWERED
    assert Span.objects.get(pk=span.pk).name == "chat"


def test_deleting_the_draft_does_not_take_its_trace_along(brand, make_trace):
    trace = make_trace(brand)

    with pytest.raises(TraceImmutable), transaction.atomic():
        trace.draft.delete()

    assert Trace.objects.filter(pk=trace.pk).exists()


def _execute(*statements: tuple[str, list]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _make_at(make_trace, brand, moment: dt.datetime, **kwargs) -> Trace:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return make_trace(brand, **kwargs)


def test_purge_removes_only_traces_past_retention(brand, make_trace, django_user_model):
    now = timezone.now()
    old = _make_at(make_trace, brand, now - dt.timedelta(days=91))
    Review.objects.create(trace=old, verdict="bad_answer")
    edge = _make_at(make_trace, brand, now - dt.timedelta(days=89))
    fresh = make_trace(brand)

    dry = traces_purge(older_than_days=90, dry_run=True)
    assert (dry.traces, dry.spans) == (1, 1)
    assert Trace.objects.count() == 3

    result = traces_purge(older_than_days=90)

    assert (result.traces, result.spans) == (1, 1)
    assert set(Trace.objects.values_list("pk", flat=True)) == {edge.pk, fresh.pk}
    assert not Span.objects.filter(trace_id=old.pk).exists()
    assert not Review.objects.filter(trace_id=old.pk).exists()
    assert Span.objects.filter(trace_id__in=[edge.pk, fresh.pk]).count() == 2


def test_purge_also_removes_what_other_apps_keep_of_an_old_trace(brand, make_trace):
    old = _make_at(make_trace, brand, timezone.now() - dt.timedelta(days=91))
    config = ReplayConfiguration.objects.create(brand=brand, name="base", version=1)
    run = ReplayRun.objects.create(brand=brand, config_a=config, total=1)
    item = ReplayItem.objects.create(run=run, seq=1, ticket_id=old.ticket_id, source_trace=old)
    ReplayResult.objects.create(item=item, side="a", config=config, outcome="answered")

    result = traces_purge(older_than_days=90)

    assert result.traces == 1
    assert not ReplayItem.objects.filter(pk=item.pk).exists()
    assert not ReplayResult.objects.filter(item_id=item.pk).exists()
    assert ReplayRun.objects.filter(pk=run.pk).exists()


def test_purge_command_reports_and_honours_dry_run(brand, make_trace):
    _make_at(make_trace, brand, timezone.now() - dt.timedelta(days=40))
    out = StringIO()

    call_command("purge_traces", "--older-than", "30", "--dry-run", stdout=out)
    assert "Would delete 1 traces and 1 spans" in out.getvalue()
    assert Trace.objects.count() == 1

    call_command("purge_traces", "--older-than", "30", stdout=out)
    assert "Deleted 1 traces and 1 spans" in out.getvalue()
    assert Trace.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_trace SET outcome = 'failed' WHERE id = %s",
        "DELETE FROM audit_trace WHERE id = %s",
        "UPDATE audit_span SET name = 'x' WHERE trace_id = %s",
        "DELETE FROM audit_span WHERE trace_id = %s",
    ],
)
def test_postgres_trigger_refuses_raw_sql_changes(brand, make_trace, sql):
    trace = make_trace(brand)

    with pytest.raises(DatabaseError, match="append-only"):
        _execute((sql, [trace.pk]))

    trace.refresh_from_db()
    assert trace.outcome == Trace.Outcome.ANSWERED
    assert trace.spans.get().name == "chat"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_allow_purge_setting_is_transaction_local(brand):
    # Rows written directly: trace_record would queue an (eager) rollup task on commit, and
    # an eager task leaves Celery's producer pool on the default broker for later tests.
    draft = DraftFactory(ticket__brand=brand)
    trace = Trace.objects.create(
        brand=brand, ticket=draft.ticket, draft=draft, provider="rules", outcome="answered"
    )
    Span.objects.create(trace=trace, seq=1, kind="llm", name="chat", started_at=timezone.now())
    _execute(("SET LOCAL audit.allow_purge = 'on'", []))
    # The setting ended with its transaction: the trigger refuses again.
    with pytest.raises(DatabaseError, match="append-only"):
        _execute(("DELETE FROM audit_span WHERE trace_id = %s", [trace.pk]))
    # Even with the setting on, an UPDATE is refused.
    with pytest.raises(DatabaseError, match="append-only"):
        _execute(
            ("SET LOCAL audit.allow_purge = 'on'", []),
            ("UPDATE audit_trace SET sensitive = true WHERE id = %s", [trace.pk]),
        )
    assert trace.spans.count() == 1


@pytest.mark.postgres
def test_postgres_purge_inside_a_callers_transaction_does_not_open_the_trigger(brand, make_trace):
    old = _make_at(make_trace, brand, timezone.now() - dt.timedelta(days=400))
    kept = make_trace(brand)

    traces_purge(older_than_days=365)  # the test's own transaction is still open

    assert not Trace.objects.filter(pk=old.pk).exists()
    with pytest.raises(DatabaseError, match="append-only"):
        _execute(("DELETE FROM audit_span WHERE trace_id = %s", [kept.pk]))


@pytest.mark.postgres
def test_postgres_purge_goes_through_the_trigger_and_keeps_recent_rows(brand, make_trace):
    now = timezone.now()
    old = [_make_at(make_trace, brand, now - dt.timedelta(days=400 + i)) for i in range(3)]
    recent = make_trace(brand)

    result = traces_purge(older_than_days=365, batch_size=2)

    assert result.traces == 3
    assert list(Trace.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Span.objects.filter(trace_id__in=[t.pk for t in old]).exists()
