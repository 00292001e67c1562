"""The house rules of docs/architecture.md, read from the source with `ast`.

Every import counts: top-level, inside functions, and under ``TYPE_CHECKING``
(a circle there is still a circle a reader has to untangle). Checked:

- the packages' layers: sandbox < executors < agent;
- inside agent/, the wings' order (a module imports its own wing or lower);
- no import circle between modules;
- no module over 600 lines;
- one exception root for the three packages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sandbox", "executors", "agent")
MAX_LINES = 600

# Low to high: a module may import from its own group or any group before it.
# The flat modules of agent/ are the public concepts; each wing is a folder.
AGENT_ORDER: tuple[tuple[str, ...], ...] = (
    ("agent._errors",),
    ("agent._secrets", "agent._result"),
    ("agent._actions",),
    ("agent._safety", "agent._tools", "agent._events"),
    ("agent._api",),
    ("agent._record",),
    ("agent._run",),
    ("agent._watch",),
    ("agent._agent",),
    ("agent.testing", "agent.demo", "agent._computers_server"),
    ("agent",),
    ("agent._pytest", "agent.pytest_plugin"),
    ("agent._cli", "agent.__main__", "agent._batch"),
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every project module `name` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            if target in MODULES and target != name:
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _group(module: str) -> int:
    """The index in AGENT_ORDER of the longest prefix naming `module`'s group."""
    best, rank = -1, -1
    for index, names in enumerate(AGENT_ORDER):
        for prefix in names:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    assert rank >= 0, f"{module} is in no group of AGENT_ORDER: add it"
    return rank


def test_packages_import_only_lower_layers() -> None:
    wrong = [
        f"{m} -> {d}"
        for m, deps in GRAPH.items()
        for d in deps
        if PACKAGES.index(d.split(".")[0]) > PACKAGES.index(m.split(".")[0])
    ]
    assert wrong == []


def test_agent_wings_import_only_their_own_or_lower_ones() -> None:
    wrong = [
        f"{m} -> {d}"
        for m, deps in GRAPH.items()
        if m.startswith("agent")
        for d in deps
        if d.startswith("agent") and _group(d) > _group(m)
    ]
    assert wrong == []


def test_every_agent_module_belongs_to_a_group() -> None:
    for module in MODULES:
        if module.startswith("agent"):
            _group(module)


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0
    for root in sorted(GRAPH):
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_no_import_circles() -> None:
    assert _circles() == []


def test_the_circle_finder_finds_a_circle() -> None:
    GRAPH["agent._errors"].add("agent._result")
    GRAPH["agent._result"].add("agent._errors")
    try:
        assert ["agent._errors", "agent._result"] in _circles()
    finally:
        GRAPH["agent._errors"].discard("agent._result")
        GRAPH["agent._result"].discard("agent._errors")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_600_lines(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines"


def test_one_exception_root() -> None:
    import agent
    import executors
    import sandbox

    root = sandbox.ScreenloopError
    assert agent.ScreenloopError is root
    for package in (agent, executors, sandbox):
        for name in package.__all__:
            value = getattr(package, name)
            if isinstance(value, type) and issubclass(value, Exception):
                assert issubclass(value, root), f"{package.__name__}.{name}"
