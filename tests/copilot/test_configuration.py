"""Settings: every environment variable the project reads is in the README's table, and an
app's settings come from its own defaults unless the environment or the project sets them."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from copilot import defaults as copilot_defaults
from copilot.conf import AppSettings, conf, setting_names
from orders import defaults as orders_defaults
from replay import defaults as replay_defaults
from tests.conftest import ROOT

APP_DEFAULTS = (copilot_defaults, orders_defaults, replay_defaults)


def _variables_read() -> set[str]:
    settings_py = (ROOT / "copilot" / "settings.py").read_text()
    explicit = set(re.findall(r'env_(?:str|bool|int|float|list)\(\s*"([A-Z0-9_]+)"', settings_py))
    return explicit | {name for defaults in APP_DEFAULTS for name in setting_names(defaults)}


def test_every_environment_variable_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))

    variables = _variables_read()

    assert len(variables) > 40  # the scan found the settings, not nothing
    assert sorted(variables - documented) == []


def test_an_app_setting_is_its_default_unless_the_project_sets_it(settings):
    assert conf.COPILOT_MAX_ITERATIONS == copilot_defaults.COPILOT_MAX_ITERATIONS

    settings.COPILOT_MAX_ITERATIONS = 9

    assert conf.COPILOT_MAX_ITERATIONS == 9


def test_a_name_that_is_not_a_setting_of_the_app_is_an_error():
    with pytest.raises(AttributeError, match="ORDERS_HTTP_MAX_RETRIES is not a setting"):
        _ = AppSettings(replay_defaults).ORDERS_HTTP_MAX_RETRIES


def test_the_environment_sets_an_app_setting_with_its_default_s_type():
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "from replay.conf import conf; "
        "print(repr(settings.COPILOT_MAX_ITERATIONS), repr(settings.ORDERS_CIRCUIT_RESET_SECONDS),"
        " repr(conf.REPLAY_CHUNK_SIZE), hasattr(settings, 'COPILOT_PROVIDER'))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "copilot.settings",
        "DEBUG": "1",
        "COPILOT_MAX_ITERATIONS": "7",
        "ORDERS_CIRCUIT_RESET_SECONDS": "12.5",
        "REPLAY_CHUNK_SIZE": "",  # empty is unset
    }
    env.pop("COPILOT_PROVIDER", None)

    printed = subprocess.check_output(
        [sys.executable, "-c", script], cwd=ROOT, env=env, text=True, timeout=60
    )

    assert printed.split() == ["7", "12.5", "25", "False"]
