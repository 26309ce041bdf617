import ast
import subprocess
import sys
from pathlib import Path


def test_loading_a_shipped_model_does_not_import_matplotlib():
    """Plotting belongs to reports; a program that only loads and samples should not pay for it."""
    script = (
        "import sys, cadenza\n"
        "from cadenza.pipeline import load, model_folder\n"
        "load(model_folder('tiny-piano-mel'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "[]"


def _modules() -> dict[str, Path]:
    """Dotted name -> source file of every cadenza module (packages by their __init__)."""
    import cadenza

    root = Path(cadenza.__file__).parent
    paths = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return paths


def _imported_from(node: ast.ImportFrom, name: str, path: Path) -> str:
    """The absolute module an ``from ... import`` in module ``name`` (at ``path``) reads from."""
    if not node.level:
        return node.module or ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    up = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*up, node.module] if node.module else up)


def _import_graph() -> dict[str, set[str]]:
    """cadenza module -> the cadenza modules it imports, anywhere in its body."""
    paths = _modules()
    graph = {}
    for name, path in paths.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = _imported_from(node, name, path)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in paths else base)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {module for module in found if module in paths and module != name}
    return graph


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_module_imports_a_private_name_of_another():
    """A leading underscore means 'only this module uses it'; a second user needs a public name.

    Walks every statement, so imports inside functions count, and so does ``module._name``
    on a cadenza module bound by an import.
    """
    paths = _modules()
    found = []
    for name, path in paths.items():
        tree = ast.parse(path.read_text())
        modules = set()  # local names bound to cadenza modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _imported_from(node, name, path)
                if base.partition(".")[0] != "cadenza" or base == name:
                    continue
                for alias in node.names:
                    if _is_private(alias.name) or any(map(_is_private, base.split("."))):
                        found.append(f"{name}:{node.lineno} imports {base}.{alias.name}")
                    if f"{base}.{alias.name}" in paths:
                        modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.partition(".")[0] != "cadenza":
                        continue
                    if any(map(_is_private, alias.name.split("."))):
                        found.append(f"{name}:{node.lineno} imports {alias.name}")
                    modules.add(alias.asname or alias.name.partition(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules and _is_private(node.attr)):
                found.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert found == []


def test_no_module_imports_the_package_and_no_imports_form_a_cycle():
    graph = _import_graph()
    assert [name for name, imports in graph.items() if "cadenza" in imports] == []

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for module in graph[start] - seen:
            seen.add(module)
            if module == target or reaches(module, target, seen):
                return True
        return False

    cycles = [name for name in graph if reaches(name, name, set())]
    assert cycles == []
