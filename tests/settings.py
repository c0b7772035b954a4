"""Settings for the test suite: the project's own settings, run as a local deployment would be.

The tests never turn DEBUG on (a bug DEBUG hides must show), so what production requires is
given here: a key, local hosts, plain-HTTP cookies. Users get a fast password hasher: the
suite creates thousands and never measures the hash's strength.
"""

from __future__ import annotations

import os

# copilot.settings refuses to start without a key when DEBUG is off; subprocesses the tests
# start (a Celery worker, a web server) inherit it from here.
os.environ.setdefault("SECRET_KEY", "tests-only-key-never-use-in-production")

from copilot.settings import *  # noqa: F403

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = False
COPILOT_ENCRYPTION_KEYS = COPILOT_ENCRYPTION_KEYS or [SECRET_KEY]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
