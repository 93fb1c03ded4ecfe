"""The cyclic garbage collector while a console-script command runs.

Starting a command creates a few hundred thousand long-lived objects (the modules,
classes and tables it imports) and next to no garbage. Left alone, the collector walks
them again and again while the command starts, and once more when the interpreter shuts
down: about a third of a short command's CPU time on these machines.

- `hold`: the console script raises the collector's first threshold while the command
  starts. The collector still runs, after every million new objects, so a path that
  never calls `release` cannot grow without bound.
- `release`: the work proper (a store operation, a remote client, a server) begins. The
  thresholds go back to Python's, and what exists by then lives as long as the process,
  so it is moved out of the collector's sight (`gc.freeze`): later passes do not walk it.
- `finish`: the command is done. Everything left dies with the
  process; frozen, it is not walked one last time at shutdown. Resources are closed
  explicitly before this (the store's connections by `Application.close`); nothing
  relies on the shutdown collection.

Only the console script calls these: `licensectl.cli.entry.main()` with an `argv`
(Python calling it, tests) leaves the collector alone.
"""

from __future__ import annotations

import gc
from typing import Final

#: New objects between two collections while a command starts (Python's default: 700).
START_UP_THRESHOLD: Final = 1_000_000

_saved: list[tuple[int, int, int]] = []


def hold() -> None:
    """Collect only every `START_UP_THRESHOLD` new objects, until `release`."""
    if not _saved:
        _saved.append(gc.get_threshold())
        gc.set_threshold(START_UP_THRESHOLD, *_saved[0][1:])


def release() -> None:
    """Python's thresholds again, start-up's objects frozen (only after `hold`)."""
    if _saved:
        gc.freeze()
        gc.set_threshold(*_saved.pop())


def finish() -> None:
    """The command is done: spare the shutdown collection's walk over what is left."""
    release()
    gc.freeze()
