"""Done-point 3: inside a real Celery worker, the plan follows a change made on the rollout
page on the very next run, within a second. The worker and this process share one Redis
cache, as production processes must, so waffle's flushes reach the worker."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from waffle.models import Switch

from audit.models import Trace
from copilot.models import Role
from copilot.services import ticket_ingest
from rollout.flags import KILL_SWITCH
from rollout.models import RolloutChange
from tests.conftest import REDIS_URL, _redis_reachable, artifacts_dir, require
from tests.factories import CustomerFactory
from tests.waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_cache(settings):
    """This process's cache on Redis; celery_worker_process hands the same URL to the worker."""
    require(_redis_reachable(REDIS_URL), f"needs Redis at {REDIS_URL}")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }


@pytest.fixture
def worker(shared_cache, celery_worker_process):
    return celery_worker_process


def lag(changed_at, trace: Trace) -> float:
    """Seconds from the change to the worker's run that planned with it (its first span)."""
    return (trace.spans.order_by("seq").first().started_at - changed_at).total_seconds()


def test_worker_plan_reflects_a_rollout_page_change_and_the_kill_switch_within_a_second(
    worker, brand, member
):
    admin, _ = member(brand, Role.ADMIN)
    customer = CustomerFactory(brand=brand)
    stage_url = reverse("rollout:change", args=[brand.slug, "fetch_orders", "stage"])

    def next_run(n: int) -> Trace:
        result = ticket_ingest(
            brand=brand,
            external_id=f"worker-{n}",
            body="Where is my order?",
            customer_external_id=customer.external_id,
            customer_email=customer.email,
            customer_email_verified=True,
        )
        draft_id = result.draft.pk
        return wait_until(
            lambda: Trace.objects.filter(draft_id=draft_id).first(),
            interval=0.02,
            what=f"a trace for draft {draft_id}",
        )

    # The worker reads "off" first, so its cache holds the old state.
    assert next_run(0).plan["stage"] == "off"

    lags = []
    steps = [("on", None), ("percent", "100"), ("off", None), ("on", None)]
    for n, (stage, percent) in enumerate(steps, start=1):
        posted = admin.post(stage_url, {"stage": stage, "percent": percent or "", "reason": "t"})
        assert posted.status_code == 302
        change = RolloutChange.objects.latest("id")
        trace = next_run(n)
        assert trace.plan["stage"] == stage, (n, trace.plan)
        assert trace.plan["available_tools"] == ([] if stage == "off" else ["fetch_orders"])
        lags.append(lag(change.changed_at, trace))

    # The global kill switch (waffle's Switch, as its admin or `waffle_switch` saves it).
    switched = Switch.objects.create(name=KILL_SWITCH, active=True)
    trace = next_run(len(steps) + 1)
    assert trace.plan["kill_switch"] is True and trace.plan["available_tools"] == []
    lags.append(lag(switched.modified, trace))

    figures = {"changes": len(lags), "max_lag_s": max(lags), "lags_s": lags}
    (artifacts_dir() / "rollout-worker-lag.json").write_text(json.dumps(figures))
    print(json.dumps(figures))
    assert max(lags) < 1.0, figures
