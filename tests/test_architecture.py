"""The import-layer contract of `.importlinter` (run by `make lint`): it holds on the code as
it is, it fails on an import that goes up a layer, and it leaves no module of the project
outside a layer."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("copilot", "orders", "rollout", "audit", "replay")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Wiring that no project module imports: Django and the servers load these by name.
OUTSIDE_LAYERS = {"copilot.settings", "copilot.wsgi", "copilot.asgi"}


def _copy_of_the_project(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def _lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=where,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_every_contract(tmp_path):
    result = _lint_imports(_copy_of_the_project(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("orders/models.py", "copilot.views"),  # the core domain reaching up into the views
        ("audit/selectors.py", "rollout.services"),  # rollout reads the audit, not the reverse
        ("copilot/agent/engine.py", "copilot.services"),  # the engine calling its callers
        ("audit/views.py", "rollout.views"),  # one app's views importing another's
        ("copilot/agent/grounding.py", "openai"),  # the model SDK outside its provider
    ],
)
def test_an_import_that_breaks_a_layer_fails_the_lint(tmp_path, module, imported):
    project = _copy_of_the_project(tmp_path)
    path = project / module
    path.write_text(path.read_text() + f"\nimport {imported}  # noqa\n")
    importer = module.removesuffix(".py").replace("/", ".")

    result = _lint_imports(project)

    assert result.returncode != 0
    assert re.search(r"Contracts: \d+ kept, [1-9]\d* broken", result.stdout), result.stdout
    assert f"{importer} -> {imported}" in result.stdout, result.stdout


def test_every_module_of_the_project_sits_in_a_layer():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layers = config["importlinter:contract:layers"]["layers"]
    listed = {name.strip() for line in layers.splitlines() for name in line.split(":")}
    listed = {name for name in listed if name}

    def covered(module: str) -> bool:
        return any(module == name or module.startswith(name + ".") for name in listed)

    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for package in PACKAGES
        for path in (ROOT / package).glob("*.py")
        if path.name != "__init__.py"
    ] + [
        ".".join(path.relative_to(ROOT).parts)
        for package in PACKAGES
        for path in (ROOT / package).iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and path.name != "migrations"
    ]
    missing = sorted(m for m in modules if not covered(m) and m not in OUTSIDE_LAYERS)

    assert missing == [], f"add these modules to a layer of .importlinter: {missing}"


# Control flow, not a failure anyone is told about: "try this delivery again in n seconds".
NOT_ERRORS = {"copilot.helpdesks.services.DeliveryRetry"}


def test_every_error_of_the_project_derives_from_the_one_coded_base():
    import importlib
    import inspect

    from copilot.errors import CodedError

    exceptions = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or parts[-1] in {"settings", "wsgi", "asgi"}:
                continue
            module = importlib.import_module(".".join(p for p in parts if p != "__init__"))
            for name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                ):
                    exceptions[f"{value.__module__}.{name}"] = value

    assert len(exceptions) > 40  # the scan found the project's errors
    outside = sorted(
        name
        for name, cls in exceptions.items()
        if not issubclass(cls, CodedError) and name not in NOT_ERRORS
    )
    assert outside == []
