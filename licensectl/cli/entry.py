"""The console script: shell completion of objects on a fast path, else the full CLI.

Kept apart from `licensectl.cli.app` so that a completion request for a License ID, a
customer, a partner or a profile loads neither Typer nor Rich nor the database stack
(cli/complete.py); anything else imports the app as before.
"""

from __future__ import annotations

import os


def main(argv: list[str] | None = None) -> int:
    if argv is not None:  # called from Python, not as the console script
        return _main(argv)
    from licensectl import gcpause

    gcpause.hold()
    try:
        return _main(argv)
    finally:
        gcpause.finish()


def _main(argv: list[str] | None) -> int:
    instruction = os.environ.get("_LICENSECTL_COMPLETE")
    if instruction and argv is None:
        from licensectl.cli import complete

        answered = complete.fast_path()
        if answered is not None:
            return answered
        shell = complete.shell_of(instruction)
        if shell is not None:  # Typer's completion reads Typer's spelling
            os.environ["_LICENSECTL_COMPLETE"] = f"complete_{shell}"
    from licensectl.cli.app import main as app_main

    return app_main(argv)
