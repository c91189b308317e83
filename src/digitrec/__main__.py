"""``python -m digitrec`` is the ``digitrec`` command."""

from digitrec.cli import main

main()
