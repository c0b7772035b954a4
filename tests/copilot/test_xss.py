"""Whatever text customers, models or order systems send, the pages print it as text, and
the Content-Security-Policy would stop a script even if something slipped through."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from copilot.models import Draft
from tests.conftest import ROOT
from tests.factories import CustomerFactory, DraftFactory, TicketFactory
from tests.traces import grounding_span, record_trace, span, tool_span

pytestmark = pytest.mark.django_db

SENTINEL = "/xss-sentinel/"

# Every string here runs script, fires a request or navigates if it reaches the DOM as HTML.
CORPUS = [
    "<script>window.__xss=1;alert('script')</script>",
    "<img src=x onerror=\"window.__xss=1;alert('img')\">",
    "<svg onload=\"window.__xss=1;alert('svg')\"></svg>",
    '"><a href="javascript:window.__xss=1;alert(\'link\')">click me</a>',
    "'><body onload=alert('body')>",
    f'<div hx-get="{SENTINEL}" hx-trigger="load" hx-target="body">hx div</div>',
    f'<button hx-post="{SENTINEL}" hx-trigger="load" hx-on::load="alert(1)">hx button</button>',
    f'<a href="{SENTINEL}" hx-boost="true" hx-trigger="load" hx-get="{SENTINEL}">boost</a>',
    "</textarea><script>window.__xss=1</script><textarea>",
    "</title><script>window.__xss=1</script>",
    "javascript:alert('bare')",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<style>body{display:none}</style><link rel="stylesheet" href="/xss-sentinel/css">',
    "{{ request.user }} {% csrf_token %}",
]
PAYLOAD = "\n".join(CORPUS)
SHORT = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def seed_hostile_ticket(brand) -> tuple[Draft, Draft]:
    """A ticket, draft, trace and tool data full of the corpus; plus a decided draft."""
    customer = CustomerFactory(brand=brand, name=SHORT, email="x@example.com")
    ticket = TicketFactory(brand=brand, customer=customer, subject=SHORT, body=PAYLOAD)
    body = "Reply:\n" + PAYLOAD
    draft = DraftFactory(ticket=ticket, body=body)
    start = body.index("<script>")
    record_trace(
        draft,
        [
            span("llm", "chat", result={"text": PAYLOAD, "tool_calls": [{"name": SHORT}]}),
            tool_span(
                arguments={"order_number": SHORT},
                result={"orders": [{"number": SHORT, "note": PAYLOAD, SHORT: SHORT}]},
                attributes={"source": SHORT, "read_at": SHORT},
            ),
            span(
                "tool",
                "fetch_orders",
                status="error",
                error={"code": SHORT, "message": PAYLOAD},
            ),
            grounding_span(
                "unverified",
                [{"start": start, "end": start + 8, "text": "<script>", "kind": SHORT}],
            ),
        ],
        grounding="unverified",
        model=SHORT,
        plan={"stage": SHORT, "arm": SHORT, "available_tools": [SHORT]},
    )
    decided = DraftFactory(
        ticket=TicketFactory(brand=brand, subject=SHORT, body=PAYLOAD),
        decision="edited",
        final_text=PAYLOAD,
    )
    return draft, decided


def hostile_markup(html: str) -> list[str]:
    """Corpus strings with markup that appear unescaped in `html`."""
    return [item for item in [*CORPUS, SHORT] if "<" in item and item in html]


def test_every_page_escapes_ticket_draft_and_tool_text(brand, member):
    draft, decided = seed_hostile_ticket(brand)
    agent, _ = member(brand)
    pages = [
        reverse("inbox", args=[brand.slug]),
        reverse("inbox", args=[brand.slug]) + "?q=%3Cscript%3E",
        reverse("ticket", args=[draft.ticket_id]),
        reverse("ticket", args=[decided.ticket_id]),
        reverse("trace", args=[draft.trace.pk]),
    ]

    for url in pages:
        html = agent.get(url).content.decode()
        assert hostile_markup(html) == [], url
    workspace = agent.get(reverse("ticket", args=[draft.ticket_id])).content.decode()
    assert "&lt;script&gt;window.__xss=1;alert(&#x27;script&#x27;)&lt;/script&gt;" in workspace
    # A hostile fact kind never reaches the page: the tooltip names kinds from a fixed list.
    assert '<mark title="Unverified fact">' in workspace
    assert "<mark" in workspace and "&lt;script&gt;</mark>" in workspace
    assert "{{ request.user }} {% csrf_token %}" in workspace  # printed, never evaluated
    assert "{{ request.user }} {% csrf_token %}" in workspace  # printed, never evaluated


def test_a_conflict_echoes_the_submitted_text_escaped(brand, member):
    draft = DraftFactory(ticket=TicketFactory(brand=brand))
    agent, _ = member(brand)
    url = reverse("draft_decide", args=[draft.pk, "edit"])
    agent.post(url, {"version": 1, "text": PAYLOAD})

    clash = agent.post(url, {"version": 1, "text": PAYLOAD, "reason": SHORT})

    assert clash.status_code == 409
    assert hostile_markup(clash.content.decode()) == []


def test_pages_send_a_csp_without_unsafe_inline_or_eval(brand, member):
    agent, _ = member(brand)

    for response in (agent.get(reverse("inbox", args=[brand.slug])), agent.get("/login/")):
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy


def test_htmx_is_configured_without_eval_or_script_tags_or_inline_styles(brand, member):
    agent, _ = member(brand)

    html = agent.get(reverse("inbox", args=[brand.slug])).content.decode()

    assert '"allowEval": false' in html
    assert '"allowScriptTags": false' in html
    assert '"includeIndicatorStyles": false' in html
    assert "hx-headers='{&quot;X-CSRFToken&quot;" in html or 'hx-headers=\'{"X-CSRFToken"' in html


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_carry_no_inline_script_style_handler_or_safe_filter(template: Path):
    text = template.read_text()

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"<style\b", text), "inline <style>"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"
    assert not re.search(r"\son[a-z]+\s*=", text), "event handler attribute"
    assert not re.search(r"\bhx-on\b", text), "hx-on needs eval"
    assert not re.search(r"\|\s*safe", text), "the safe and safeseq filters turn escaping off"
    assert "autoescape off" not in text and "javascript:" not in text
