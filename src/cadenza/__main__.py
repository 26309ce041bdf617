"""``python -m cadenza`` runs the ``cadenza`` command (where the script is not installed)."""

from cadenza.cli import main

main()
