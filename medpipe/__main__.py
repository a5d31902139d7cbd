"""``python -m medpipe``: the same command as the ``medpipe`` console script."""

from medpipe.workers.cli import run

run()

