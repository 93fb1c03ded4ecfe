"""Real processes racing for the last free copies of one license, online and offline.

Whatever the interleaving, the copies granted never exceed the license's quantity, the
losers exit 4 with one `Error:` line, and one request answered by several processes at
once is still answered once, with the same bytes for everyone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli
from test_concurrency import race

ONLINE = 3
OFFLINE = 3
REPLAYS = 3


@pytest.mark.local_only  # races or kills 'licensectl --db' child processes on the store itself
@pytest.mark.slow
def test_racing_activations_never_over_allocate(
    cli: Cli, onboarded: dict[str, str], tmp_path: Path
) -> None:
    contested = cli.ok("transfer", onboarded["license"], "--to", "P2022-0208", "--yes").stdout
    contested = contested.strip()  # 5 copies
    cli.ok("activate", contested, "--install-code", "SS-0", "--copies", "3")  # 2 stay free
    single = cli.ok(
        "license", "add", "--po", "PO-RACE", "--type", "core", "--devices", "1"
    ).stdout.strip()
    single = cli.ok("transfer", single, "--to", "P2022-0208", "--yes").stdout.strip()
    # two more licenses, activated at once on one SmartServer that does not exist yet
    shared = [
        cli.ok("transfer", lid, "--to", "P2022-0208", "--yes").stdout.strip()
        for lid in (
            cli.ok("license", "add", "--po", "PO-RACE", "--po-line", str(line), "--type", "core",
                   "--devices", "1").stdout.strip()
            for line in (2, 3)
        )
    ]  # fmt: skip
    cli.ok("keys", "export-public")  # the signing key exists before the race

    def request(code: str, license_id: str) -> str:
        path = tmp_path / f"{code}.json"
        args = ["--install-code", code, "--license", license_id, "--out", str(path)]
        Cli(db=None).ok("smartserver", "request", *args)
        return str(path)

    argv = [["activate", contested, "--install-code", f"ON-{i}"] for i in range(ONLINE)]
    argv += [
        ["activate-offline", request(f"OFF-{i}", contested), "--out", str(tmp_path / f"{i}.out")]
        for i in range(OFFLINE)
    ]
    argv += [["activate-offline", request("TWIN", single)]] * REPLAYS
    argv += [["activate", lid, "--install-code", "SHARED"] for lid in shared]

    results = race(tmp_path, [["--db", str(cli.db), "--quiet", *a] for a in argv])
    contenders = results[: ONLINE + OFFLINE]
    twins = results[ONLINE + OFFLINE : ONLINE + OFFLINE + REPLAYS]
    newcomers = results[ONLINE + OFFLINE + REPLAYS :]
    codes = sorted(r.returncode for r in contenders)
    assert codes == [0, 0] + [4] * (ONLINE + OFFLINE - 2), [
        (r.returncode, r.stderr) for r in results
    ]
    for r in contenders:
        if r.returncode:
            assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
            assert "not enough free copies" in r.stderr
    shown = cli.json("license", "show", contested)
    assert shown["free_copies"] == 0
    assert sum(a["copies"] for a in shown["activations"]) == 5
    assert len(shown["activations"]) == 3  # SS-0 and the two winners
    history = [e["action"] for e in cli.json("license", "history", contested)["events"]]
    assert history.count("license.activate") == 3
    # the same request from several processes: answered once, identical bytes for all
    assert [r.returncode for r in twins] == [0] * REPLAYS, [r.stderr for r in twins]
    assert len({r.stdout for r in twins}) == 1
    assert json.loads(twins[0].stdout)["install_code"] == "TWIN"
    assert cli.json("license", "show", single)["free_copies"] == 0
    history = [e["action"] for e in cli.json("license", "history", single)["events"]]
    assert history.count("license.activate") == 1
    # the SmartServer is created once, by whichever activation came first
    assert [r.returncode for r in newcomers] == [0, 0], [r.stderr for r in newcomers]
    server = cli.json("smartserver", "show", "SHARED")
    assert sorted(a["license_id"] for a in server["activations"]) == sorted(shared)
