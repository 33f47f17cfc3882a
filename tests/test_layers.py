"""The import table of DESIGN.md: each layer imports only the layers below it.

Composition roots (backend.app, backend.worker, backend.cli) and tests may import everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Ordered from the bottom; a package may import itself and anything listed before it.
LAYERS = [
    "backend.core",
    "backend.access_log",
    "consent",
    "backend.records",
    "notifications",
    "backend.desk",
    "frontend",
]
COMPOSITION_ROOTS = {"backend.app", "backend.worker", "backend.cli"}
OURS = ("backend", "consent", "notifications", "frontend")


def _layer_of(module: str) -> str | None:
    for layer in sorted(LAYERS, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return [(line, name) for line, name in found if name.split(".")[0] in OURS]


def _source_files() -> list[Path]:
    return sorted(path for package in OURS for path in (ROOT / package).rglob("*.py"))


def test_every_package_file_belongs_to_a_layer_or_a_root() -> None:
    for path in _source_files():
        module = _module_name(path)
        if module in {"backend", *COMPOSITION_ROOTS} or module.startswith("backend.migrations"):
            continue
        assert _layer_of(module) is not None, f"{module} is in no layer of DESIGN.md"


@pytest.mark.parametrize("path", _source_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_imports_flow_one_way(path: Path) -> None:
    module = _module_name(path)
    if module in COMPOSITION_ROOTS or module == "backend" or module.startswith("backend.migrations"):
        return
    own = _layer_of(module)
    assert own is not None
    allowed = set(LAYERS[: LAYERS.index(own) + 1])
    for line, imported in _imports(path):
        if imported.startswith("backend.migrations"):
            continue
        target = _layer_of(imported)
        roots = [root for root in COMPOSITION_ROOTS if imported == root or imported.startswith(root + ".")]
        assert not roots, f"{path.name}:{line} imports the composition root {imported}"
        assert target in allowed, f"{module} ({own}) may not import {imported} ({target}) at line {line}"


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    offending = tmp_path / "bad.py"
    offending.write_text("from frontend.rendering import page\nimport notifications\n", encoding="utf-8")
    assert [name for _, name in _imports(offending)] == ["frontend.rendering.page", "notifications"]
    assert _layer_of("frontend.rendering.page") == "frontend"
    assert "frontend" not in LAYERS[: LAYERS.index("backend.core") + 1]
