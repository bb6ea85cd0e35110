"""The dependency rules of the design, checked over every module's imports.

`api → domain → models → core`; `flows → domain, notifications, models, core`;
`notifications → models, core`; `domain` never imports FastAPI, Prefect or Apprise; `api`
reaches Prefect only through `flows.control`. The web pages sit beside `api` and share its
dependencies and schemas; the CLI sits on top of everything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"core", "models", "domain", "notifications", "flows", "api", "web", "cli"}
FRAMEWORKS = {"fastapi", "starlette", "prefect", "apprise", "jinja2"}

# package: what else of the project and of the frameworks it may import
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "models": {"core"},
    "domain": {"core", "models"},
    "notifications": {"core", "models", "apprise"},
    "flows": {"core", "models", "domain", "notifications", "prefect"},
    "api": {"core", "models", "domain", "flows.control", "web", "fastapi", "starlette"},
    "web": {"core", "models", "domain", "notifications", "api", "fastapi", "starlette", "jinja2"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _allowed(name: str, rules: set[str]) -> bool:
    return any(name == rule or name.startswith(f"{rule}.") for rule in rules)


def _breaches(package: str) -> list[str]:
    breaches = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in sorted(_imports(path)):
            top = name.split(".")[0]
            if top == package or top not in PROJECT | FRAMEWORKS:
                continue
            if not _allowed(name, ALLOWED[package]):
                breaches.append(f"{path.relative_to(ROOT)} imports {name}")
    return breaches


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_design_allows(package: str) -> None:
    assert _breaches(package) == []


def test_the_rules_see_a_breach(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import prefect\nfrom api.deps import SessionDep\nfrom models import Case\n")
    assert _imports(module) == {"prefect", "api.deps", "models"}
    assert not _allowed("prefect", ALLOWED["domain"])
    assert not _allowed("flows.sweeper", ALLOWED["api"])
    assert _allowed("flows.control", ALLOWED["api"])
