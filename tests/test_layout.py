"""The layout rules of the design, checked on the source: dependencies point one way, no import
circle, no module much over 400 lines.

The import graph is read with `ast` from the checkout (the root is the package `labledger`), so
the rules hold for what a reader or a static analyser sees, not just for what one run imported.
Imports under `if TYPE_CHECKING:` are left out (they never run); imports inside functions count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "labledger"
SOURCE_FOLDERS = ["domain", "adapters", "projections", "scripts"]
MAX_LINES = 400

IO_LIBRARIES = frozenset(
    {
        "asyncio",
        "concurrent",
        "glob",
        "http",
        "httpx",
        "io",
        "multiprocessing",
        "os",
        "psutil",
        "psycopg",
        "psycopg_pool",
        "requests",
        "shutil",
        "socket",
        "sqlite3",
        "subprocess",
        "tempfile",
        "threading",
        "time",
        "urllib",
    }
)
"""Libraries that read or write files, talk over a network or to a database, run processes or
threads, or read the clock: none of them belongs in the pure domain."""

IMPURE_PATHS = frozenset({"Path", "PosixPath", "WindowsPath"})
"""pathlib's concrete paths do I/O; the domain may use the pure ones only."""

USE_CASES = frozenset(
    f"{PACKAGE}.adapters.{name}"
    for name in (
        "registration",
        "registration_core",
        "registration_requests",
        "new_sessions",
        "weighings_water",
        "registration_client",
        "sync",
        "executors",
        "retry_refused",
        "watchdog_handover",
        "watchdog_service",
    )
)
"""The use cases (registration is assembled from the four modules after it)."""
SYSTEM_SUBPACKAGES = tuple(
    f"{PACKAGE}.adapters.{name}" for name in ("alyx", "watchdog", "database", "filesystem")
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


@cache
def _sources() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    paths = [ROOT / "__init__.py"]
    for folder in SOURCE_FOLDERS:
        paths.extend(sorted((ROOT / folder).rglob("*.py")))
    return {_module_name(path): path for path in paths}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run: everything but the bodies of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _run_time_imports_of(other)
        else:
            yield from _run_time_imports(child)


def _run_time_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _run_time_imports(node)


@cache
def _imports(module: str) -> tuple[tuple[str, str | None], ...]:
    """(imported module, name taken from it or None) for every run-time import of `module`,
    relative imports resolved to absolute names."""
    path = _sources()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []
    for node in _run_time_imports(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
        else:
            target = node.module or ""
        found.extend((target, alias.name) for alias in node.names)
    return tuple(found)


@cache
def _graph() -> dict[str, frozenset[str]]:
    """The project's modules, each with the project modules it imports."""
    modules = _sources()
    graph: dict[str, frozenset[str]] = {}
    for module in modules:
        targets: set[str] = set()
        for target, name in _imports(module):
            submodule = f"{target}.{name}" if name else None
            if submodule in modules:
                targets.add(submodule)
            elif target in modules:
                targets.add(target)
        targets.discard(module)
        graph[module] = frozenset(targets)
    return graph


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) for every strongly connected component
    of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return [_cycle_in(graph, set(component)) for component in components]


def _cycle_in(graph: dict[str, frozenset[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected component."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def _under(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _show(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_graph_sees_the_package() -> None:
    """A guard for the rules below: the graph holds the modules, follows relative imports (of a
    module, and of a name from a module) and leaves out what only a type checker reads."""
    graph = _graph()
    assert f"{PACKAGE}.domain.ledger" in graph
    assert f"{PACKAGE}.domain.provenance" in graph[f"{PACKAGE}.domain.history"]
    assert f"{PACKAGE}.adapters.registration" in graph[f"{PACKAGE}.scripts.alyx_commands"]
    assert not graph[PACKAGE], "the package's names are imported on first use, not at import"


def test_no_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (each module imports the next):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in cycles
    )


def test_no_module_over_400_lines() -> None:
    """Every module of the package (the tests' own files are not held to it)."""
    too_long = {
        _show(path): count
        for path in _sources().values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines; split them by what they hold:\n" + (
        "\n".join(f"  {path}: {count}" for path, count in sorted(too_long.items()))
    )


def test_domain_is_pure() -> None:
    """The domain imports no adapter, projection or script, and no library that does I/O."""
    outer = tuple(f"{PACKAGE}.{name}" for name in ("adapters", "projections", "scripts"))
    offences: list[str] = []
    for module, path in _sources().items():
        if not _under(module, f"{PACKAGE}.domain"):
            continue
        for target, name in _imports(module):
            top = target.split(".")[0]
            if _under(target, *outer) or (name and _under(f"{target}.{name}", *outer)):
                offences.append(f"{_show(path)} imports {target}")
            elif top in IO_LIBRARIES:
                offences.append(f"{_show(path)} imports {target} (I/O)")
            elif top == "pathlib" and name in IMPURE_PATHS:
                offences.append(f"{_show(path)} imports pathlib.{name} (I/O; use a pure path)")
    assert not offences, "the domain must stay pure:\n" + "\n".join(
        f"  {offence}" for offence in sorted(set(offences))
    )


def test_projections_do_not_import_adapters_or_scripts() -> None:
    graph = _graph()
    outer = (f"{PACKAGE}.adapters", f"{PACKAGE}.scripts")
    offences = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _under(module, f"{PACKAGE}.projections")
        for target in targets
        if _under(target, *outer)
    ]
    assert not offences, "projections depend on the domain only:\n" + "\n".join(
        f"  {offence}" for offence in sorted(offences)
    )


@pytest.mark.parametrize("subpackage", SYSTEM_SUBPACKAGES)
def test_system_subpackages_do_not_import_the_use_cases(subpackage: str) -> None:
    """The rooms per external system sit below the use cases that combine them."""
    graph = _graph()
    offences = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if _under(module, subpackage)
        for target in targets
        if _under(target, *USE_CASES)
    ]
    assert not offences, f"{subpackage} must not import the use-case modules:\n" + "\n".join(
        f"  {offence}" for offence in sorted(offences)
    )
