"""The folders tell the story, and these checks keep them honest (they read the source, nothing runs)."""

from __future__ import annotations

import ast
import re
from functools import cache
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


# What each part of the repository may import of the others: a part of ``bridge`` is a sub-package or a top-level
# module. The README's "Layout" table says the same, and a test below holds the two together.
MAY_IMPORT: dict[str, frozenset[str]] = {
    part: frozenset(allowed.split())
    for part, allowed in {
        "bridge.errors": "",
        "bridge.deadline": "bridge.errors",
        "bridge.metrics": "",
        "bridge.logs": "",
        "bridge.domain": "bridge.errors",
        "bridge.stores_file": "bridge.domain bridge.errors",
        "bridge.settings": "bridge.domain bridge.errors bridge.stores_file",
        "bridge.storage": "bridge.domain bridge.errors",
        "bridge.clients": "bridge.domain bridge.errors bridge.deadline bridge.metrics",
        "bridge.services": "bridge.domain bridge.errors bridge.deadline bridge.storage bridge.clients",
        "bridge.pipeline": "bridge.domain bridge.errors bridge.deadline bridge.metrics bridge.settings bridge.storage "
        "bridge.clients bridge.services",
        "bridge.composition": "bridge.settings bridge.storage bridge.clients bridge.services bridge.pipeline",
        "bridge.process": "bridge.errors bridge.logs bridge.settings",
        "bridge.web": "bridge.domain bridge.errors bridge.deadline bridge.metrics bridge.settings bridge.storage "
        "bridge.services bridge.composition",
        "bridge.cli": "bridge.domain bridge.errors bridge.deadline bridge.metrics bridge.settings bridge.storage "
        "bridge.clients bridge.services bridge.pipeline bridge.composition bridge.process",
        "bridge.wsgi": "bridge.process bridge.web",
        "bridge": "",
        "config": "bridge.errors bridge.process",
        "standins": "",  # test and demo equipment: it reads the published contracts, never the bridge
        "bench": "bridge.storage standins",
    }.items()
}
# What the layering exists to prevent, named so that a failure says which rule broke.
NEVER = [
    ("bridge.clients", "bridge.storage"),  # clients see quotas through an interface of their own
    ("bridge.settings", "bridge.clients"),
    ("bridge.domain", "bridge.storage"),
    *((part, "standins") for part in MAY_IMPORT if part.startswith("bridge")),
    *(("standins", part) for part in MAY_IMPORT if part.startswith("bridge")),
]


def part_of(module: str) -> str | None:
    """The part of the repository a module belongs to, or None for anything outside it."""
    names = module.split(".")
    if names[0] == "bridge":
        return "bridge" if len(names) == 1 or names[1] == "__init__" else f"bridge.{names[1]}"
    return names[0] if names[0] in ("standins", "bench", "config") else None


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Which parts import which, at any depth (lazy imports included)."""
    graph: dict[str, set[str]] = {}
    for folder in ("bridge", "standins", "bench", "config"):
        for path in modules(folder):
            part = part_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
            assert part is not None
            graph.setdefault(part, set()).update(
                other for other in map(part_of, imported(path)) if other is not None and other != part
            )
    return {part: frozenset(imports) for part, imports in graph.items()}


def test_every_part_imports_only_what_the_layout_allows() -> None:
    graph = import_graph()
    assert set(graph) <= set(MAY_IMPORT), f"parts the layout does not name: {set(graph) - set(MAY_IMPORT)}"
    for part, imports in graph.items():
        assert imports <= MAY_IMPORT[part], f"{part} imports {sorted(imports - MAY_IMPORT[part])}"


@pytest.mark.parametrize(("importer", "imported_part"), NEVER, ids=lambda value: value)
def test_the_imports_the_layering_exists_to_prevent(importer: str, imported_part: str) -> None:
    assert imported_part not in import_graph().get(importer, set())


def test_imports_form_no_cycle_directly_or_through_others() -> None:
    """Depth-first search for a path that comes back to where it started, over the graph as it is (not the table)."""
    graph = import_graph()
    done: set[str] = set()

    def visit(part: str, path: list[str]) -> None:
        if part in path:
            raise AssertionError(" -> ".join([*path[path.index(part) :], part]))
        if part in done:
            return
        for other in sorted(graph.get(part, ())):
            visit(other, [*path, part])
        done.add(part)

    for part in sorted(graph):
        visit(part, [])


def test_the_readme_layout_table_is_the_one_enforced() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("### Layout") :]
    rows = re.findall(r"^\| `([\w.]+)` \| [^|]* \| ([^|]*) \|$", layout.split("\n## ")[0], flags=re.MULTILINE)
    documented = {part: frozenset(re.findall(r"`([\w.]+)`", allowed)) for part, allowed in rows}
    assert documented == MAY_IMPORT


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
