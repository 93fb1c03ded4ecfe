"""Issue 12's figures on a big store: completion latency and report times.

    python bench/everyday_bench.py [--rows 1000000] [--pairs 15] [--store bench/out/everyday-1m.db]
    python bench/everyday_bench.py --only remote    # completion through `licensectl serve`

Builds (once, then reuses) a SQLite store like issue 9's: `gen_po.py` rows imported with
`licensectl import` (20 % of rows transferred to a customer), then 100,000 activations
written directly (half of them maintenance, expiring over the next two years), so the
reports have something to add up.

Completion is timed as a shell runs it: a whole `licensectl` process with
`_LICENSECTL_COMPLETE` and the words typed, paired with a raw baseline in the same run,
alternating which goes first; the figure is the median of the pairs (budget: 300 ms on a
1M-license store). The baseline is `python -c` with `sqlite3` running the same LIMIT query:
the least any completer in Python must do. Reports are timed as whole `licensectl -o json
report …` processes (median of `--repeat`), budget one second each.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from startup import isolated_env, timed  # bench/, this script's folder

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LICENSECTL = str(Path(sys.executable).parent / "licensectl")


def build(store: Path, rows: int, env: dict[str, str]) -> None:
    csv_path = OUT / f"everyday-po-{rows}.csv"
    if not csv_path.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "gen_po.py"), str(rows), str(csv_path)],
            check=True,
        )
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_po import PARTNERS

    for name in PARTNERS:
        subprocess.run([LICENSECTL, "--db", str(store), "partner", "add", name], env=env,
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    start = time.perf_counter()
    subprocess.run([LICENSECTL, "--db", str(store), "-q", "import", str(csv_path)], env=env,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"import of {rows:,} rows: {time.perf_counter() - start:.1f} s", flush=True)
    activate(store)


def activate(store: Path, count: int = 100_000) -> None:
    """Activations written directly: one copy of `count` customer licenses, two licenses
    a SmartServer, maintenance expiring over the next 24 months."""
    rng = random.Random(12)
    now = datetime.now(UTC).replace(tzinfo=None)
    conn = sqlite3.connect(store)
    with conn:
        picked = conn.execute(
            "SELECT seq, type, term_months FROM license WHERE customer_pk IS NOT NULL "
            "AND status = 'available' ORDER BY seq LIMIT ?",
            (count,),
        ).fetchall()
        servers = []
        for i in range(0, len(picked), 2):
            code = f"BENCH-{uuid.UUID(int=rng.getrandbits(128)).hex[:16].upper()}"
            servers.append((code, f"ss-{i // 2}", now))
        conn.executemany(
            "INSERT INTO smartserver (install_code, name, created_at) VALUES (?, ?, ?)", servers
        )
        first = conn.execute("SELECT min(id) FROM smartserver WHERE install_code LIKE 'BENCH-%'")
        base = first.fetchone()[0]
        acts = []
        for i, (seq, kind, _term) in enumerate(picked):
            expires = now + timedelta(days=rng.randint(1, 730)) if kind == "maintenance" else None
            acts.append((seq, base + i // 2, 1, "online", now, now, expires))
        conn.executemany(
            "INSERT INTO activation (license_seq, smartserver_id, copies, mode, activated_at, "
            "updated_at, maintenance_expires) VALUES (?, ?, ?, ?, ?, ?, ?)",
            acts,
        )
        conn.executemany(
            "UPDATE license SET active_copies = 1, status = 'activated' WHERE seq = ?",
            [(seq,) for seq, _, _ in picked],
        )
    conn.close()
    print(f"{len(picked):,} activations on {len(servers):,} SmartServers", flush=True)


def completion(store: Path, env: dict[str, str], pairs: int) -> None:
    raw = (
        f"import sqlite3; c = sqlite3.connect('file:{store}?mode=ro', uri=True); "
        "print('\\n'.join(r[0] for r in c.execute(\"SELECT license_id FROM license WHERE "
        "license_id >= '' AND license_id < '~' AND status = 'available' ORDER BY license_id "
        'LIMIT 50")))'
    )
    cases = {
        "transfer <TAB> (License IDs)": f"licensectl --db {store} transfer ",
        "transfer 3f<TAB>": f"licensectl --db {store} transfer 3f",
        "--to <TAB> (customers)": f"licensectl --db {store} transfer X --to ",
        "--partner <TAB>": f"licensectl --db {store} license list --partner ",
        "lic<TAB> (commands, Typer)": "licensectl lic",
    }
    print(f"\ncompletion, {pairs} pairs, median ms (baseline: python + sqlite3 query)")
    print(f"{'case':34} {'licensectl':>10} {'baseline':>9} {'ratio':>6} {'max':>6}")
    for name, words in cases.items():
        run_env = {
            **env,
            "_LICENSECTL_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        }
        ta, tb, ratios = [], [], []
        for i in range(pairs):
            order = [(True, [LICENSECTL], run_env), (False, [sys.executable, "-c", raw], env)]
            if i % 2:
                order.reverse()
            got = {side: timed(argv, e) for side, argv, e in order}
            ta.append(got[True])
            tb.append(got[False])
            ratios.append(got[True] / got[False])
        print(
            f"{name:34} {statistics.median(ta) * 1000:10.0f} {statistics.median(tb) * 1000:9.0f}"
            f" {statistics.median(ratios):6.2f} {max(ta) * 1000:6.0f}",
            flush=True,
        )


def remote_completion(store: Path, env: dict[str, str], pairs: int) -> None:
    """The same completions from `licensectl serve` over the store, on loopback: a whole
    process, as a shell runs it, with the token in LICENSECTL_TOKEN and the default 0.25 s
    timeout; paired with the same local completion (`--db`)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from serverkit import start_server

    token = subprocess.run(
        [LICENSECTL, "--db", str(store), "token", "create", "--role", "admin", "--name",
         f"bench-{uuid.uuid4().hex[:8]}"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    server = start_server(str(store), OUT, env=env)
    try:
        remote_env = {**env, "LICENSECTL_TOKEN": token}
        cases = {
            "transfer <TAB> (License IDs)": "transfer ",
            "transfer 3f<TAB>": "transfer 3f",
            "--to <TAB> (customers)": "transfer X --to ",
            "--partner <TAB>": "license list --partner ",
        }
        print(f"\nremote completion (http loopback), {pairs} pairs, median ms (vs --db)")
        print(f"{'case':34} {'remote':>10} {'local':>9} {'ratio':>6} {'max':>6} {'offered':>8}")
        for name, words in cases.items():
            runs = {}
            for side, line in (("remote", f"licensectl --url {server.base} {words}"),
                               ("local", f"licensectl --db {store} {words}")):  # fmt: skip
                runs[side] = {
                    **remote_env,
                    "_LICENSECTL_COMPLETE": "bash_complete",
                    "COMP_WORDS": line,
                    "COMP_CWORD": str(len(line.split(" ")) - 1),
                }
            ta, tb, ratios = [], [], []
            for i in range(pairs):
                order = ["remote", "local"] if i % 2 == 0 else ["local", "remote"]
                got = {side: timed([LICENSECTL], runs[side]) for side in order}
                ta.append(got["remote"])
                tb.append(got["local"])
                ratios.append(got["remote"] / got["local"])
            offered = subprocess.run(  # warm, as a shell user's second <TAB> is
                [LICENSECTL], env=runs["remote"], capture_output=True, text=True, check=True
            ).stdout.split("\n")
            print(
                f"{name:34} {statistics.median(ta) * 1000:10.0f} "
                f"{statistics.median(tb) * 1000:9.0f} {statistics.median(ratios):6.2f} "
                f"{max(ta) * 1000:6.0f} {len([w for w in offered if w]):8}",
                flush=True,
            )
    finally:
        server.stop()


def reports(store: Path, env: dict[str, str], repeat: int) -> None:
    cases = {
        "renewals --within 90": ["report", "renewals", "--within", "90"],
        "renewals --within 365": ["report", "renewals", "--within", "365"],
        "coverage": ["report", "coverage"],
        "inventory --by type": ["report", "inventory"],
        "inventory --by customer": ["report", "inventory", "--by", "customer"],
        "inventory --by po": ["report", "inventory", "--by", "po"],
        "activity": ["report", "activity"],
        "license list --limit 100 (yardstick)": ["license", "list"],
    }
    print(f"\nreports, whole process (-o json), median of {repeat}, seconds")
    for name, args in cases.items():
        times = [timed([LICENSECTL, "--db", str(store), "-o", "json", *args], env)
                 for _ in range(repeat)]  # fmt: skip
        print(f"{name:40} {statistics.median(times):6.2f}  (min {min(times):.2f})", flush=True)


def reports_in_process(store: Path, repeat: int) -> None:
    """The reports' own time: the service call on an open store (the SQL aggregates and
    the result models), without the process start-up every command pays."""
    from licensectl.contract.requests import (
        ActivityQuery,
        CoverageQuery,
        InventoryQuery,
        RenewalsQuery,
    )
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    backend = LocalBackend.open(normalize_db_url(str(store)))
    cases: dict[str, Callable[[], object]] = {
        "renewals --within 90": lambda: backend.report_renewals(RenewalsQuery(within_days=90)),
        "renewals --within 365": lambda: backend.report_renewals(RenewalsQuery(within_days=365)),
        "coverage": lambda: backend.report_coverage(CoverageQuery()),
        "inventory --by type": lambda: backend.report_inventory(InventoryQuery()),
        "inventory --by customer": lambda: backend.report_inventory(InventoryQuery(by="customer")),
        "inventory --by po": lambda: backend.report_inventory(InventoryQuery(by="po")),
        "activity": lambda: backend.report_activity(ActivityQuery()),
    }
    backend.partner_list()  # open and check the store once
    print(f"\nreports, the service call alone, median of {repeat}, seconds")
    for name, call in cases.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - start)
        rows = len(getattr(result, "rows", []))
        print(f"{name:40} {statistics.median(times):6.2f}  (min {min(times):.2f}, {rows:,} rows)",
              flush=True)  # fmt: skip
    backend.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument(
        "--only", choices=["build", "completion", "remote", "reports", "service"], default=None
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    store = args.store or OUT / f"everyday-{args.rows}.db"
    home = OUT / "everyday-home"
    env = isolated_env(home)
    if not store.exists():
        build(store, args.rows, env)
    count = sqlite3.connect(store).execute("SELECT count(*) FROM license").fetchone()[0]
    print(f"store: {store} ({count:,} licenses)", flush=True)
    if args.only in (None, "completion"):
        completion(store, env, args.pairs)
    if args.only in (None, "remote"):
        remote_completion(store, env, args.pairs)
    if args.only in (None, "reports", "service"):
        reports_in_process(store, args.repeat)
    if args.only in (None, "reports"):
        reports(store, env, args.repeat)


if __name__ == "__main__":
    main()
