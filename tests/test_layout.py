"""The shape of the code: no import circles, no stage reaching into another's private names, every
module in the README's layout table, and test files named after the modules they test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("framing", "training")
CROSS_CUTTING_TESTS = {"test_faults", "test_layout", "test_same_outputs", "test_shipped_model"}
"""Suites about the whole tool rather than one module."""


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import of ``path``, at any depth (imports
    inside functions make circles too, only later)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [a.name for a in node.names]
            # "from framing.model import onnx_model" imports a module, not a name of the package.
            for name in names:
                if f"{node.module}.{name}" in modules:
                    found.append((f"{node.module}.{name}", []))
            found.append((node.module, [n for n in names if f"{node.module}.{n}" not in modules]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return [(m, names) for m, names in found if m in modules]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m, _ in _imports(path, modules) if m != name} for name, path in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return circles


def test_no_import_circles() -> None:
    circles = _circles(_graph())
    assert not circles, "import circles: " + "; ".join(" → ".join(c) for c in circles)


def test_the_walker_finds_a_circle_through_a_function_level_import(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from framing.b import x\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("def f():\n    from framing.a import y\n", encoding="utf-8")
    modules = {"framing.a": tmp_path / "a.py", "framing.b": tmp_path / "b.py"}
    graph = {name: {m for m, _ in _imports(path, modules)} for name, path in modules.items()}
    assert _circles(graph) == [["framing.a", "framing.b", "framing.a"]]


def test_no_module_imports_another_modules_private_names() -> None:
    modules = _modules()
    private = [
        f"{name} imports {m}.{n}"
        for name, path in modules.items()
        for m, names in _imports(path, modules)
        for n in names
        if n.startswith("_") and m != name
    ]
    assert not private


def test_every_module_is_in_the_readme_layout() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.index("\n## ", 4)]
    listed = set(re.findall(r"`((?:framing|training)/[\w/]+\.py)`", layout))
    missing = sorted(str(p.relative_to(REPO)) for p in _modules().values() if str(p.relative_to(REPO)) not in listed and p.name not in ("__init__.py", "__main__.py"))
    assert not missing, f"modules missing from the README's layout table: {missing}"


def test_test_files_are_named_after_modules() -> None:
    modules = _modules()
    stems = {name.rsplit(".", 1)[-1] for name in modules}
    strays = [
        str(p.relative_to(REPO))
        for p in sorted((REPO / "tests").rglob("test_*.py"))
        if p.stem not in CROSS_CUTTING_TESTS and p.stem.removeprefix("test_") not in stems
    ]
    assert not strays, f"test files that mirror no module: {strays}"
