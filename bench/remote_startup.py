"""A remote `license show`, end to end, against the same command on a local store.

Both are whole processes, interpreter start-up included. The remote one talks to a
`licensectl serve` on loopback (started here, over the very store the local one reads),
with its token in LICENSECTL_TOKEN; it should take at most half the time of the local
one (issue 10), as it skips the database stack. Pairs alternate which command goes
first; the figure is the median of the per-pair ratios. The HTTPS case verifies the
server's certificate against a throwaway CA (--ca-bundle), TLS handshake included.

    python bench/remote_startup.py [--pairs 21]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from serverkit import make_tls, start_server  # noqa: E402
from startup import isolated_env, paired  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=21)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = isolated_env(home)
        env.pop("LICENSECTL_URL", None)
        env.pop("LICENSECTL_PROFILE", None)
        store = str(home / "store.db")
        lctl = [py, "-m", "licensectl"]

        def run(*argv: str) -> str:
            done = subprocess.run(
                [*lctl, "--db", store, *argv], env=env, check=True, capture_output=True, text=True
            )
            return done.stdout.strip()

        run("partner", "add", "Acme")
        run("customer", "add", "Site A")
        lid = run("license", "add", "--po", "PO-1", "--type", "capacity", "--devices", "200",
                  "--quantity", "5")  # fmt: skip
        run("--yes", "transfer", lid, "--to", "Site A", "--quantity", "2")
        token = run("token", "create", "--role", "admin", "--name", "bench")
        remote_env = {**env, "LICENSECTL_TOKEN": token}
        local = [*lctl, "--db", store, "license", "show", lid]
        tls = make_tls(home)
        plain = start_server(store, home, env=env)
        secure = start_server(store, home, tls=tls, env=env)
        try:
            cases = [
                ("license show, http loopback", [*lctl, "--url", plain.base, "license", "show",
                                                 lid]),
                ("license show, https + CA", [*lctl, "--url", secure.base, "--ca-bundle",
                                              str(tls.ca_file), "license", "show", lid]),
            ]  # fmt: skip
            print(f"{'command':30} {'remote':>8} {'local':>8} {'ratio':>6}  target")
            for name, remote in cases:
                a, b, ratio = paired(remote, local, remote_env, args.pairs)
                verdict = "ok" if ratio <= 0.5 else "OVER 0.5"
                print(f"{name:30} {a * 1000:6.0f}ms {b * 1000:6.0f}ms {ratio:6.2f}  {verdict}")
        finally:
            plain.stop()
            secure.stop()


if __name__ == "__main__":
    main()
