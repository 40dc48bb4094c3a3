"""The package's layers import one way and no module imports itself in a circle (docs/ARCHITECTURE.md).

Imports are read from the source (every `import`, at module level or inside a function, except those under
`if TYPE_CHECKING:`, which exist for annotations only), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optviz"

#: Each layer may import only the layers listed after it (and itself).
LAYERS = ("optviz.cli", "optviz.app", "optviz.export", "optviz.render", "optviz.core")
#: Inside the app: the model and the shared widgets sit under every feature; the shell sits above them all.
APP_BASE = ("optviz.app.model", "optviz.app.widgets")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return skipped


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
                package = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
    return {m for m in found if m in modules and m != name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _layer(module: str, layers: tuple[str, ...]) -> int | None:
    for i, prefix in enumerate(layers):
        if module == prefix or module.startswith(prefix + "."):
            return i
    return None


def test_layers_import_downwards_only(graph):
    wrong = []
    for module, imported in graph.items():
        mine = _layer(module, LAYERS)
        for other in imported:
            theirs = _layer(other, LAYERS)
            if mine is not None and theirs is not None and theirs < mine:
                wrong.append(f"{module} -> {other}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_app_model_and_widgets_import_no_feature(graph):
    wrong = [
        f"{module} -> {other}"
        for module, imported in graph.items()
        if _layer(module, APP_BASE) is not None
        for other in imported
        if other.startswith("optviz.app.") and _layer(other, APP_BASE) is None and other != "optviz.app"
    ]
    assert not wrong, "the app's base imports a feature:\n" + "\n".join(sorted(wrong))


def test_features_never_import_the_shell(graph):
    wrong = [
        f"{module} -> {other}"
        for module, imported in graph.items()
        if module.startswith("optviz.app.") and not module.startswith("optviz.app.shell")
        for other in imported
        if other.startswith("optviz.app.shell")
    ]
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles(graph):
    # Tarjan's strongly connected components: any component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_checker_sees_lazy_imports_and_cycles():
    # The checks above would pass vacuously if the import reader found nothing: prove it reads what it must.
    modules = _modules()
    session = _imports("optviz.core.race.session", modules["optviz.core.race.session"], modules)
    assert "optviz.core.race.engine" in session  # module level
    assert "optviz.core.learn.session" in session  # inside a function
    assert "optviz.core.scene" not in session  # under TYPE_CHECKING only
