"""`db check` in the process, with the CPU time of each part on its thread.

    python bench/check_threads.py STORE

Runs `Backend.db_check()` on STORE (only read) and prints its wall time, the main
thread's CPU time and that of each check run there, the CPU time of each integrity part
(on the `db-check-integrity-N` threads) and of the value tests' reads of each table
(`_scan_values`, on the `db-check-values` thread), then the process's user and system
time. Wraps the check's private functions to time them: a bench, not an API.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from typing import Any

from licensectl.contract.models import Principal
from licensectl.domain import Role
from licensectl.service import LocalBackend
from licensectl.service import integrity as checks
from licensectl.store.url import normalize_db_url

TIMED = ("_audit_chain", "_values", "_scan_values", "_licenses", "_lineage", "_ownership",
         "_sqlite_foreign_keys", "_sqlite_schema", "_install_codes", "_day_counts")  # fmt: skip


def main(argv: list[str]) -> int:
    timed: list[tuple[str, str, float]] = []
    starts: dict[int, float] = {}
    take, done = checks._Integrity._take, checks._Integrity._done

    def timed_take(self: Any) -> int | None:
        starts[threading.get_ident()] = time.thread_time()
        return take(self)

    def timed_done(self: Any, index: int, result: Any) -> None:
        spent = time.thread_time() - starts[threading.get_ident()]
        timed.append((threading.current_thread().name, self._parts[index][0], spent))
        done(self, index, result)

    checks._Integrity._take = timed_take  # type: ignore[method-assign]
    checks._Integrity._done = timed_done  # type: ignore[method-assign]
    for name in TIMED:
        function = getattr(checks, name, None)
        if function is None:  # an older checkout
            continue

        def wrapper(*args: Any, _function: Any = function, _name: str = name, **kw: Any) -> Any:
            start = time.thread_time()
            try:
                return _function(*args, **kw)
            finally:
                what = _name if _name != "_scan_values" else f"_scan_values({args[1]})"
                timed.append((threading.current_thread().name, what, time.thread_time() - start))

        setattr(checks, name, wrapper)
    backend = LocalBackend.open(
        normalize_db_url(argv[0]), principal=Principal(role=Role.ADMIN, name="bench")
    )
    wall, main_cpu = time.perf_counter(), time.thread_time()
    report = backend.db_check()
    wall, main_cpu = time.perf_counter() - wall, time.thread_time() - main_cpu
    print(f"ok {report.ok} wall {wall:.1f} s, main thread CPU {main_cpu:.1f} s")
    for thread, what, spent in timed:
        if spent >= 0.05:
            print(f"  {thread:22} {what}: {spent:.1f}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"process user {usage.ru_utime:.1f} s + system {usage.ru_stime:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
