"""Every import inside hipkit points down the layer table, with no cycle and no function-level import.

The check reads the package's source (``ast``; nothing is imported) and builds the graph of hipkit
modules: one edge per ``import`` / ``from ... import`` statement naming a hipkit module, wherever it
stands (module level, inside a function, under ``if TYPE_CHECKING``). It fails on

(a) a cycle between modules,
(b) an upward import: a module importing one of a higher layer in :data:`LAYERS`, and
(c) a function-level import of a hipkit module. Function-level imports are for optional third-party
    dependencies loaded lazily (dask, distributed, nbclient, matplotlib...), which this test does not
    police; a hipkit module imported inside a function hides a cycle or an upward import.

Each failure names the offending statement as ``file:line``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import hipkit

#: The layer table, from the top down: a module may import modules of its own layer or of a layer
#: below it, never of a layer above. Each entry is (layer, top-level names under ``hipkit``); ``""``
#: is the package root ``hipkit/__init__.py``, the public API, which nothing inside the package imports.
#: Within a layer, imports may go either way as long as they make no cycle.
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("api", frozenset({""})),  # hipkit/__init__.py: re-exports the public functions
    ("cli", frozenset({"cli"})),  # argparse and dispatch
    ("report", frozenset({"report"})),  # notebooks to HTML, the clinic report
    ("power", frozenset({"power"})),  # simulation-based power: simulate + models
    ("analyses", frozenset({"models", "stats"})),  # mixed models; classical analyses (independent)
    ("simulate", frozenset({"simulate"})),  # calibrated cohort generators
    ("cleaning", frozenset({"cleaning"})),  # raw exports to the tidy long table
    ("io", frozenset({"io"})),  # readers, writers, clean tables
    ("registry", frozenset({"registry"})),  # the measure registry
    # the ground floor: errors, the vocabulary, the version, argument checks, configuration files,
    # safe YAML and the parallel executor (which knows nothing of the layers above it)
    (
        "ground",
        frozenset({"errors", "_glossary", "_version", "_arguments", "_config", "_yaml", "_display", "parallel"}),
    ),  # fmt: skip
]



#: Folders of notebook sources executed by a kernel (they use hipkit as a user does), not modules.
NOT_MODULES = ("report/templates", "report/clinic/templates")

PACKAGE = Path(hipkit.__file__).resolve().parent


@dataclass(frozen=True)
class Edge:
    """One import statement naming a hipkit module."""

    source: str  # importing module, e.g. "hipkit.models.fit"
    target: str  # imported module, e.g. "hipkit.models.results"
    where: str  # "toolkit/hipkit/models/fit.py:135"
    in_function: bool


def _modules(package: Path) -> dict[str, Path]:
    name = package.name
    out = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if any(rel.as_posix().startswith(folder + "/") for folder in NOT_MODULES):
            continue
        parts = [name, *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _shown(path: Path, package: Path) -> str:
    try:
        return path.relative_to(package.parent.parent).as_posix()
    except ValueError:
        return path.as_posix()


def import_edges(package: Path = PACKAGE) -> list[Edge]:
    """Every import statement of ``package`` that names one of its modules, as an :class:`Edge`."""
    modules = _modules(package)
    root = package.name
    edges = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, in_function in _imports(tree, False):
            for target in _targets(node, module, is_package, modules):
                if target == root or target.startswith(root + "."):
                    edges.append(Edge(module, target, f"{_shown(path, package)}:{node.lineno}", in_function))
    return edges


def _imports(node: ast.AST, in_function: bool):
    """Every import statement under ``node``, with whether it stands inside a function."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, in_function
        inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _imports(child, inside)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        stem = ".".join(base + ([node.module] if node.module else []))
    else:
        stem = node.module or ""
    # ``from pkg import name``: the submodule pkg.name when there is one, else pkg itself
    found = [f"{stem}.{alias.name}" for alias in node.names if f"{stem}.{alias.name}" in modules]
    if len(found) < len(node.names):
        found.append(stem)
    return found


def layer_of(module: str, root: str = "hipkit") -> int:
    """The index of ``module``'s layer in :data:`LAYERS` (0 is the top)."""
    top = module[len(root) + 1 :].split(".")[0] if module != root else ""
    for index, (_, names) in enumerate(LAYERS):
        if top in names:
            return index
    raise KeyError(top)


def unplaced_modules(edges: list[Edge], package: Path = PACKAGE) -> list[str]:
    out = set()
    for module in _modules(package):
        try:
            layer_of(module, package.name)
        except KeyError:
            out.add(f"{_shown(_modules(package)[module], package)}: {module} is in no layer of LAYERS")
    return sorted(out)


def upward_imports(edges: list[Edge], root: str = "hipkit") -> list[str]:
    out = []
    for e in edges:
        source, target = layer_of(e.source, root), layer_of(e.target, root)
        if target < source:
            above = f"{e.target} ({LAYERS[target][0]})"
            out.append(f"{e.where}: {e.source} ({LAYERS[source][0]}) imports {above}, a layer above it")
    return out


def function_level_imports(edges: list[Edge]) -> list[str]:
    return [
        f"{e.where}: {e.source} imports {e.target} inside a function (import it at module level, "
        "or move the code to the layer it belongs to)"
        for e in edges
        if e.in_function
    ]


def import_cycles(edges: list[Edge]) -> list[str]:
    """One message per strongly connected component of the import graph, naming one cycle in it."""
    graph: dict[str, dict[str, Edge]] = {}
    for e in edges:
        graph.setdefault(e.source, {}).setdefault(e.target, e)
        graph.setdefault(e.target, {})
    # Tarjan's strongly connected components (iterative)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(component)
    out = []
    for component in components:
        first = min(component)
        # shortest way back to ``first`` inside the component (breadth first)
        came: dict[str, Edge] = {}
        frontier = [first]
        path: list[Edge] = []
        while frontier and not path:
            nxt = []
            for node in frontier:
                for child, e in sorted(graph[node].items()):
                    if child == first:
                        path = [e]
                        while path[0].source != first:
                            path.insert(0, came[path[0].source])
                        break
                    if child in component and child not in came:
                        came[child] = e
                        nxt.append(child)
                if path:
                    break
            frontier = nxt
        chain = " -> ".join([first] + [e.target for e in path])
        steps = "; ".join(f"{e.where} ({e.source} -> {e.target})" for e in path)
        members = ", ".join(sorted(component))
        out.append(f"import cycle {chain}: {steps} (modules on cycles with it: {members})")
    return out


#: Third-party libraries that one module of the package alone may import: (library, its module).
SOLE_IMPORTERS: dict[str, str] = {"patsy": "hipkit.models.matrices"}


def importers_of(library: str, package: Path = PACKAGE) -> list[str]:
    """Every import statement of ``package`` naming ``library`` (or a submodule), as ``module (file:line)``."""
    out = []
    for module, path in _modules(package).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, _ in _imports(tree, False):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if not (isinstance(node, ast.ImportFrom) and node.level) and any(
                n == library or n.startswith(library + ".") for n in names
            ):
                out.append(f"{module} ({_shown(path, package)}:{node.lineno})")
    return out


# -- the package ------------------------------------------------------------------------------------


def test_every_module_has_a_layer():
    assert unplaced_modules(import_edges()) == []


def test_no_import_cycle():
    assert import_cycles(import_edges()) == []


def test_no_upward_import():
    assert upward_imports(import_edges()) == []


def test_no_function_level_import_of_a_hipkit_module():
    assert function_level_imports(import_edges()) == []


def shadowed_modules(package=hipkit) -> list[str]:
    """Modules of ``package`` (recursively) whose name in their parent package is bound to something else."""
    out = []
    for info in pkgutil.iter_modules(package.__path__):
        if f"{package.__name__}.{info.name}".endswith(NOT_MODULES[0].replace("/", ".")):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        bound = getattr(package, info.name, None)
        if bound is not module:
            what = f"{getattr(bound, '__module__', '')}.{getattr(bound, '__qualname__', type(bound).__name__)}"
            out.append(f"{module.__name__}: the name {info.name!r} of {package.__name__} is {what}, not the module")
        if info.ispkg:
            out.extend(shadowed_modules(module))
    return out


def test_no_name_shadows_a_module():
    assert shadowed_modules() == []


def test_the_renamed_model_modules_keep_their_old_import_paths():
    from hipkit.models import marginal_means, parametric_bootstrap

    # ``import hipkit.models.emmeans`` and ``from hipkit.models.bootstrap import ...`` still work
    assert importlib.import_module("hipkit.models.emmeans") is marginal_means
    assert importlib.import_module("hipkit.models.bootstrap") is parametric_bootstrap
    exec("from hipkit.models.bootstrap import BootstrapResult, _sqrt_psd", scope := {})
    assert scope["BootstrapResult"] is parametric_bootstrap.BootstrapResult
    # and the package's names stay the functions
    assert hipkit.models.emmeans is marginal_means.emmeans
    assert hipkit.models.bootstrap is parametric_bootstrap.bootstrap is hipkit.bootstrap


def test_only_matrices_imports_patsy():
    # every patsy call of the model stack (and its caches) is in hipkit.models.matrices
    for library, sole in SOLE_IMPORTERS.items():
        found = importers_of(library)
        assert found, f"{sole} should import {library}"
        assert [f for f in found if f.split(" ")[0] != sole] == []


# -- the check itself, on a made-up package ---------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "toolkit" / "hipkit"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_the_check_finds_a_cycle_an_upward_and_a_function_level_import(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "from .models import lmm\n",
            "errors.py": "",
            "io/__init__.py": "",
            "models/__init__.py": "from .fit import lmm\n",
            "models/fit.py": "from . import results\n\ndef lmm():\n    pass\n",
            "models/results.py": "from ..errors import X\n\ndef f():\n    from .fit import lmm\n",
            "registry/__init__.py": "from hipkit.io import read\n",
        },
    )
    edges = import_edges(package)
    assert import_cycles(edges) == [
        "import cycle hipkit.models.fit -> hipkit.models.results -> hipkit.models.fit: "
        "toolkit/hipkit/models/fit.py:1 (hipkit.models.fit -> hipkit.models.results); "
        "toolkit/hipkit/models/results.py:4 (hipkit.models.results -> hipkit.models.fit) "
        "(modules on cycles with it: hipkit.models.fit, hipkit.models.results)"
    ]
    assert upward_imports(edges) == [
        "toolkit/hipkit/registry/__init__.py:1: hipkit.registry (registry) imports hipkit.io (io), a layer above it"
    ]
    assert function_level_imports(edges) == [
        "toolkit/hipkit/models/results.py:4: hipkit.models.results imports hipkit.models.fit inside a function "
        "(import it at module level, or move the code to the layer it belongs to)"
    ]
    assert unplaced_modules(edges, package) == []
    (package / "extra.py").write_text("", encoding="utf-8")
    assert unplaced_modules(import_edges(package), package) == [
        "toolkit/hipkit/extra.py: hipkit.extra is in no layer of LAYERS"
    ]


def test_the_old_cleaning_module_paths_import_the_same_modules():
    # hipkit.clean (the subpackage until issue 12) is hipkit.cleaning; the function keeps the name.
    import importlib

    import hipkit.cleaning.outofcore
    import hipkit.cleaning.pipeline

    assert callable(hipkit.clean) and not isinstance(hipkit.clean, type(hipkit))
    assert importlib.import_module("hipkit.clean.outofcore") is hipkit.cleaning.outofcore
    assert importlib.import_module("hipkit.clean.pipeline").CleanResult is hipkit.CleanResult


def test_the_check_finds_every_importer_of_a_library(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "models/__init__.py": "",
            "models/matrices.py": "def f():\n    import patsy\n",
            "models/design.py": "from patsy.design_info import DesignInfo\n",
            "models/other.py": "import patsyish\nfrom .patsy import x\n",
        },
    )
    assert importers_of("patsy", package) == [
        "hipkit.models.design (toolkit/hipkit/models/design.py:1)",
        "hipkit.models.matrices (toolkit/hipkit/models/matrices.py:2)",
    ]
