"""The layout's rules (ARCHITECTURE.md), read from the code's imports with ``ast``.

Every import counts: module level, inside functions, under ``TYPE_CHECKING``. The rules:

- no import cycles among the modules of ``davprovider/`` and ``auth/``;
- arrows run one way: ``cli -> server -> dav -> auth -> core`` (core: ``settings``,
  ``schema``, ``plugins``, ``backend``, ``digests``, ``pipeline``); a module imports
  only its own layer or lower ones; ``fleet/`` (the Redis client, shared counters) sits
  with the core;
- backends (``irods/``, ``swift/``, ``memory/``) import only ``backend``, ``digests``,
  ``pipeline`` and their own package; nothing imports a backend (``plugins`` loads
  them by name);
- cheroot only in ``server/``; wsgidav only in ``server/``, ``dav/`` and ``auth/``;
- at most 10 modules directly in ``davprovider/``; no function over 60 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("davprovider", "auth")
CORE = {"settings", "schema", "plugins", "backend", "digests", "pipeline", "__init__"}
BACKENDS = ("irods", "swift", "memory")
LAYERS = {"cli": 5, "server": 4, "dav": 3, "auth": 2, "fleet": 1, "core": 1}
MAX_TOP_MODULES = 10
MAX_FUNCTION_LINES = 60

Graph = dict[str, set[str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def imported(path: Path, tree: ast.AST) -> set[str]:
    """Absolute names of every module ``path`` imports (``from x import y`` gives
    ``x.y`` as well as ``x``: ``y`` may be a submodule)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def project_graph() -> tuple[Graph, set[str]]:
    """Module -> the project modules it imports; and every third-party name seen."""
    trees = {module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"))) for p in source_files()}
    graph: Graph = {}
    outside: set[str] = set()
    for name, (path, tree) in trees.items():
        targets = imported(path, tree)
        graph[name] = {t for t in targets if t in trees and t != name}
        outside.update(f"{name} {t}" for t in targets if t.split(".")[0] not in PACKAGES)
    return graph, outside


def layer_of(module: str) -> str:
    """``cli``, ``server``, ``dav``, ``auth``, ``core`` or ``backend:<name>``."""
    parts = module.split(".")
    if parts[0] == "auth":
        return "auth"
    if len(parts) == 1 or parts[1] in CORE:
        return "core"
    if parts[1] in ("cli", "__main__"):
        return "cli"
    if parts[1] in BACKENDS:
        return f"backend:{parts[1]}"
    return parts[1]


def arrow_problem(source: str, target: str) -> str | None:
    """Why ``source`` may not import ``target``, or ``None``."""
    src, dst = layer_of(source), layer_of(target)
    if src.startswith("backend:"):
        allowed = dst == src or target in ("davprovider.backend", "davprovider.digests")
        allowed = allowed or target in ("davprovider.pipeline", "davprovider")
        return None if allowed else f"a backend imports {target}"
    if dst.startswith("backend:"):
        return f"{source} imports the backend {target} (load it through plugins)"
    if LAYERS[src] < LAYERS[dst]:
        return f"{source} ({src}) imports {target} ({dst}): arrows run downward only"
    return None


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_violations(graph: Graph) -> list[str]:
    return sorted(
        problem
        for source, targets in graph.items()
        for target in targets
        if (problem := arrow_problem(source, target)) is not None
    )


def library_violations(outside: set[str]) -> list[str]:
    problems = []
    for pair in sorted(outside):
        source, target = pair.split(" ")
        library, layer = target.split(".")[0], layer_of(source)
        if library == "cheroot" and layer != "server":
            problems.append(f"{source} imports cheroot (only server/ may)")
        if library == "wsgidav" and layer not in ("server", "dav", "auth"):
            problems.append(f"{source} imports wsgidav (only server/, dav/ and auth/ may)")
    return problems


def test_no_import_cycles():
    graph, _ = project_graph()
    assert cycles(graph) == []


def test_arrows_run_from_cli_down_to_the_core_and_backends_stand_apart():
    graph, _ = project_graph()
    assert layer_violations(graph) == []


def test_cheroot_only_in_server_and_wsgidav_only_in_the_web_layers():
    _, outside = project_graph()
    assert library_violations(outside) == []


def test_at_most_ten_modules_directly_in_davprovider():
    top = sorted(p.name for p in (ROOT / "davprovider").glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


def test_no_function_longer_than_sixty_lines():
    long = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {lines}")
    assert long == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("davprovider.backend", "davprovider.dav.resources"),  # core -> dav
        ("auth.x509", "davprovider.server.tls"),  # auth -> server
        ("davprovider.dav.provider", "davprovider.cli"),  # dav -> cli
        ("davprovider.irods.backend", "davprovider.settings"),  # backend -> settings
        ("davprovider.swift.upload", "auth.controller"),  # backend -> auth
        ("davprovider.server.app", "davprovider.irods"),  # a static import of a backend
        ("davprovider.settings", "auth.x509"),  # core -> auth
    ],
)
def test_rules_refuse_an_arrow_running_the_wrong_way(source, target):
    assert layer_violations({source: {target}})


def test_rules_find_a_cycle_and_foreign_libraries():
    assert cycles({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}) == [["a.x", "a.y", "a.z"]]
    assert library_violations({"davprovider.dav.put cheroot.server"})
    assert library_violations({"davprovider.swift.backend wsgidav.util"})
