"""Signing in through the real login form, as every browser test starts."""

from __future__ import annotations

from tests.factories import PASSWORD


def log_in(page, user) -> None:
    """Log `user` in and wait until the login page has been left."""
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
