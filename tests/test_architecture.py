"""The package's shape: no import cycle, layers that point one way, one home per policy.

Imports are read from the source with ``ast`` (every import, at module level or inside a
function), so a cycle hidden behind a late import is a failure too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "graph_service"

#: Layer → packages it must never import (api/cli → services → store protocol and analysis).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "graph_service.analysis": (
        "graph_service.api",
        "graph_service.cli",
        "graph_service.services",
        "graph_service.store",
    ),
    "graph_service.store": ("graph_service.api", "graph_service.cli", "graph_service.services"),
    "graph_service.services": ("graph_service.api", "graph_service.cli"),
    "graph_service.cli": ("graph_service.api.routes",),
    "graph_service.visibility": ("graph_service.api", "graph_service.services"),
    "graph_service.domain": ("graph_service.",),
    "graph_service.parameters": ("graph_service.",),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from graph_service.cli import runtime`` imports the module cli.runtime.
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in MODULES else base


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = {t for t in _imports(name, path) if t in MODULES and t != name}
        # A package's own __init__ is not a dependency of its submodules' imports of
        # siblings: ``from graph_service.cli import runtime`` reaches cli.runtime only.
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_inside_the_package() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_point_one_way(layer: str) -> None:
    graph = _graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module == layer or module.startswith(layer + ".")
        for target in targets
        if any(target == f or target.startswith(f) for f in FORBIDDEN[layer])
    )
    assert wrong == []


def test_the_cli_is_a_package_by_command_group() -> None:
    cli = PACKAGE / "cli"
    assert {p.stem for p in cli.glob("*.py")} >= {
        "__init__",
        "runtime",
        "admin",
        "data",
        "analyse",
        "recommend",
        "evaluate",
    }
    assert not (PACKAGE / "cli.py").exists()


def test_personal_data_policy_lives_in_one_module() -> None:
    """Only the visibility module decides what is personal (and the access module who is a
    known caller); other modules ask them."""
    spelled = sorted(
        name
        for name, path in MODULES.items()
        if name not in ("graph_service.visibility", "graph_service.access", "graph_service.schema")
        and any(
            marker in path.read_text(encoding="utf-8")
            for marker in (".sensitive", "SENSITIVE_LABELS", '== "Person"', "caller.authenticated")
        )
    )
    assert spelled == []


#: Code lines (docstring, comments and blank lines aside) above which a function must say why.
LONG_FUNCTION = 80
WHY_LONG = "# Why this is long:"


def test_long_functions_say_why() -> None:
    unexplained = []
    for name, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = node.body
            first = body[0]
            has_doc = isinstance(first, ast.Expr) and isinstance(
                getattr(first, "value", None), ast.Constant
            )
            start = body[1].lineno if has_doc and len(body) > 1 else first.lineno
            text = lines[start - 1 : node.end_lineno]
            code = [t for t in text if t.strip() and not t.strip().startswith("#")]
            whole = lines[node.lineno - 1 : node.end_lineno]
            if len(code) > LONG_FUNCTION and not any(WHY_LONG in t for t in whole):
                unexplained.append(f"{name}.{node.name}: {len(code)} lines")
    assert unexplained == []


def _literal(node: ast.AST) -> object:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return value


def _distinctive(value: object) -> bool:
    """Vocabularies (tuples, sets, maps of two or more) and money amounts are compared;
    plain numbers (0.5, 12, 1000) recur for unrelated reasons and are not."""
    if isinstance(value, float) and not isinstance(value, bool):
        return abs(value) >= 1000
    if isinstance(value, (tuple, list, set, frozenset, dict)):
        return len(value) >= 2
    return False


def _comparable(value: object) -> object:
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(map(str, value))
    if isinstance(value, dict):
        return frozenset((str(k), str(v)) for k, v in value.items())
    return value


def test_each_domain_constant_is_defined_once() -> None:
    """No module spells a domain constant's value again: every literal in the package (a
    module constant, a default, a bound, a tuple in an expression) that equals one of
    ``graph_service.domain``'s distinctive values is a second definition."""
    from graph_service import domain

    values = {
        name: _comparable(value)
        for name in domain.__all__
        if _distinctive(value := getattr(domain, name))
    }
    again = []
    for name, path in MODULES.items():
        if name == "graph_service.domain":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict)):
                continue
            value = _literal(node)
            if not _distinctive(value):
                continue
            for constant, expected in values.items():
                if _comparable(value) == expected:
                    again.append(f"{name}:{node.lineno} repeats domain.{constant}")
    assert again == []


def test_every_cited_module_exists() -> None:
    """Docstrings, comments and docs name ``graph_service.x.y`` only where it exists."""
    import importlib
    import re

    root = PACKAGE.parent
    texts = [*PACKAGE.rglob("*.py"), root / "README.md", *(root / "docs").glob("*.md")]
    missing = set()
    for path in texts:
        for dotted in re.findall(r"graph_service(?:\.[A-Za-z_][A-Za-z0-9_]*)+", path.read_text()):
            parts = dotted.split(".")
            module = max(
                (".".join(parts[:n]) for n in range(1, len(parts) + 1)),
                key=lambda m: (m in MODULES, len(m) if m in MODULES else 0),
            )
            if module not in MODULES:
                missing.add(f"{path.name}: {dotted}")
                continue
            value: object = importlib.import_module(module)
            for attr in parts[len(module.split(".")) :]:
                if not hasattr(value, attr):
                    missing.add(f"{path.name}: {dotted}")
                    break
                value = getattr(value, attr)
    assert sorted(missing) == []
