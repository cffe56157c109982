"""The folders tell the story, and these checks keep them honest (they read the source, nothing runs)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"FACTS\.md|\.\./shared/(?!reference)|issue #[0-9]")  # the repository stands alone


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module name this file imports, at any depth (lazy imports inside functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", modules("bridge/domain"), ids=lambda p: p.name)
def test_the_domain_knows_nothing_of_web_http_or_sql(path: Path) -> None:
    outside = {top(name) for name in imported(path)} & {"flask", "werkzeug", "requests", "sqlalchemy", "alembic"}
    assert not outside, f"{path.name} imports {outside}"
    assert not {name for name in imported(path) if name.startswith("bridge.") and not name.startswith(
        ("bridge.domain", "bridge.errors"))}  # fmt: skip


def test_the_standins_never_import_the_bridge() -> None:
    for path in modules("standins"):
        assert "bridge" not in {top(name) for name in imported(path)}, path.relative_to(ROOT)


def test_the_product_loads_the_standins_only_for_the_demo() -> None:
    users = sorted(
        path.relative_to(ROOT).as_posix()
        for path in modules("bridge")
        if "standins" in {top(name) for name in imported(path)}
    )
    assert users == ["bridge/cli/main.py"]  # lazily, inside the demo command


def test_states_are_written_only_by_the_guarded_writer() -> None:
    """Only the storage layer writes SQL; in it, inserts start rows in an entry state of their machine (the initial
    one, or an ``entry`` checked against the machine's entries) and every later state is written by transitions.py."""
    for path in modules("bridge"):
        where = path.relative_to(ROOT / "bridge").as_posix()
        text = path.read_text(encoding="utf-8")
        if not where.startswith("storage/"):
            assert not re.search(r"from sqlalchemy import[^\n]*\b(update|insert|delete)\b", text), where
            continue
        for value in re.findall(r'(?:\bstate=|"state":\s*)([\w.]+)', text):
            entry = value.endswith(".initial") or (value == "entry" and "not in REQUEST_STATES.entries" in text)
            assert entry or (where == "storage/transitions.py" and value == "target"), where


def test_nothing_cites_a_file_outside_the_repository() -> None:
    tracked = [*modules("bridge"), *modules("standins"), *modules("tests"), *modules("bench"), ROOT / "README.md"]
    for path in tracked:
        text = path.read_text(encoding="utf-8")
        assert not CITATION.search(text), path.relative_to(ROOT)
