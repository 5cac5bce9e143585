"""The package's modules import each other without cycles: the tree reads as the pipeline.

Counted: every import of an edgenet module, at module level or inside a function, except
imports under ``if TYPE_CHECKING:`` (annotations only). One deliberate exception:
``Network.compile`` is a shortcut for :func:`edgenet.compile` and imports it when called
(a network compiles to a module, and a module writes back a network).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "edgenet"
ALLOWED = {("edgenet.graph.network", "edgenet.model.compile")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = package.split(".")
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            found.add(sub if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists()
                      or (PACKAGE.parent / sub.replace(".", "/")).is_dir() else target)
    return found


def test_no_import_cycles():
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        graph.add_node(name)
        for target in imports(path):
            if (name, target) not in ALLOWED and target != name:
                graph.add_edge(name, target)
    # A package's __init__ re-exports its modules: importing the package is not a cycle
    # as long as the modules themselves do not import back through it.
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles[:5]}"
