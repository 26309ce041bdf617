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
