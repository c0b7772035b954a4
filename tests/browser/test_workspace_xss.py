"""The XSS corpus in ticket text, draft text and tool data stays inert in a real browser:
no dialog, no script run, no request fired by injected hx-* attributes, no CSP violation."""

from __future__ import annotations

import pytest

from copilot.models import Role
from tests.browser.session import log_in
from tests.copilot.test_xss import PAYLOAD, SENTINEL, seed_hostile_ticket
from tests.factories import DraftFactory, MembershipFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Any live element, attribute or URL that the corpus would have produced if it were parsed.
FIND_LIVE_MARKUP = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    if (el.tagName === "SCRIPT" && !el.src) found.push("inline script");
    if (["IFRAME", "SVG", "svg", "STYLE"].includes(el.tagName)) found.push(el.tagName);
    for (const attr of el.attributes) {
      const value = attr.value.trim().toLowerCase();
      if (attr.name.startsWith("on")) found.push(el.tagName + " " + attr.name);
      if (value.startsWith("javascript:")) found.push(el.tagName + " " + attr.name + "=javascript:");
      if (value.includes("xss-sentinel")) found.push(el.tagName + " " + attr.name + "=sentinel");
    }
  }
  return found;
}"""


class Watch:
    """Everything that would show the corpus ran: dialogs, CSP reports, sentinel requests."""

    def __init__(self, page) -> None:
        self.dialogs: list[str] = []
        self.csp: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.csp.append(message.text)

    def _request(self, request) -> None:
        if SENTINEL in request.url:
            self.requests.append(request.url)

    def assert_inert(self, page, where: str) -> None:
        page.wait_for_timeout(1200)  # let hx-trigger="load" and onerror fire if they could
        assert self.dialogs == [], where
        assert self.requests == [], where
        assert self.csp == [], where
        assert page.evaluate("typeof window.__xss") == "undefined", where
        assert page.evaluate(FIND_LIVE_MARKUP) == [], where


def test_xss_corpus_renders_inert_in_inbox_workspace_trace_and_conflict(page, brand, live_server):
    draft, decided = seed_hostile_ticket(brand)
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=Role.LEAD)
    watch = Watch(page)
    log_in(page, user)

    watch.assert_inert(page, "inbox")
    assert "<img src=x onerror=alert(1)>" in page.locator("table.inbox").inner_text()

    page.goto(f"/tickets/{draft.ticket_id}/")
    watch.assert_inert(page, "workspace")
    conversation = page.locator(".conversation").inner_text()
    assert "<script>window.__xss=1;alert('script')</script>" in conversation
    assert page.get_by_label("Draft text").input_value().endswith(PAYLOAD.splitlines()[-1])
    assert "<script>" in page.locator("#draft-preview mark").inner_text()
    assert "hx-get=" in page.locator("#trace-panel").inner_text()  # tool data, as text

    page.goto(f"/traces/{draft.trace.pk}/")
    watch.assert_inert(page, "trace page")

    page.goto(f"/tickets/{decided.ticket_id}/")
    watch.assert_inert(page, "decided draft")

    # The agent's own text echoed back by a conflict is just as inert.
    clash = DraftFactory(ticket=TicketFactory(brand=brand), body="Plain", version=1)
    page.goto(f"/tickets/{clash.ticket_id}/")
    clash.version = 2
    clash.save(update_fields=["version"])
    page.get_by_label("Draft text").fill(PAYLOAD)
    page.get_by_role("button", name="Save edit and accept").click()
    page.get_by_text("Someone saved this draft first").wait_for()
    watch.assert_inert(page, "conflict")
    assert page.get_by_label("Your text").input_value() == PAYLOAD


def test_the_csp_blocks_inline_script_and_the_watch_sees_it(page, brand, live_server):
    """The control: prove the policy is enforced and a violation would fail the test above."""
    user = UserFactory()
    MembershipFactory(user=user, brand=brand)
    watch = Watch(page)
    page.goto("/login/")

    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__xss = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(300)

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert any("Content Security Policy" in text for text in watch.csp)
