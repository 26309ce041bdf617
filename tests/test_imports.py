import subprocess
import sys


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


def _import_graph() -> dict[str, set[str]]:
    """cadenza module -> the cadenza modules it imports, anywhere in its body."""
    import ast
    from pathlib import Path

    import cadenza

    root = Path(cadenza.__file__).parent
    paths = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in paths else base)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {module for module in found if module in paths and module != name}
    return graph


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
