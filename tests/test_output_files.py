"""Files licensectl writes for a user (issue 7, items 7, 8, 9 and the file parts of 18).

- `db backup` never replaces a file, even when several backups race for one new path.
- A killed writer's temporary files are gone after the next run of the same command; a
  live writer's are left alone.
- `--out` writes what the path is: through a symlink, into a device, FIFO or socket;
  a regular file is replaced atomically, keeping its mode, or made with the umask's.
- A full disk, a read-only directory or a stdout that cannot be written is one `Error:`
  line, exit 2, and says what had already been saved.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX files")
root_only = pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root")
HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"


def licensectl(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """licensectl in a process of its own, as a user or a script would run it."""
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(
        [sys.executable, "-m", "licensectl", *args], text=True, timeout=300, **kwargs
    )


def spawn(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "licensectl", *args],
        stdout=kwargs.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def one_error(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    return errors[0]


def strays(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def many_licenses(cli: Cli, count: int) -> None:
    cli.ok("partner", "add", "Acme")
    rows = "".join(f"Acme,PO-{n // 10},{n % 10 + 1},capacity,200,1,,\n" for n in range(count))
    cli.ok("-q", "import", "-", input=HEADER + rows)


# --- db backup never replaces a file ---------------------------------------------------


@pytest.mark.slow
def test_concurrent_backups_to_one_new_path_have_one_winner(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    many_licenses(sqlite_cli, 20_000)  # a copy that takes a while: the race is real
    assert sqlite_cli.db is not None
    out = tmp_path / "backups"
    out.mkdir()
    for attempt in range(4):
        target = out / f"copy-{attempt}.db"
        procs = [spawn("--db", sqlite_cli.db, "db", "backup", str(target)) for _ in range(4)]
        results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
        assert sorted(code for code, _ in results) == [0, 4, 4, 4], results
        for code, stderr in results:
            if code:
                assert "exists already" in one_error(stderr)
        assert len(Cli(db=str(target)).json("license", "list", "--all")) == 20_000
        assert strays(out) == []


def test_backup_never_writes_through_an_existing_symlink(sqlite_cli: Cli, tmp_path: Path) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    precious = tmp_path / "precious.db"
    precious.write_bytes(b"keep me")
    (tmp_path / "link.db").symlink_to(precious)
    sqlite_cli.fails(4, "db", "backup", str(tmp_path / "link.db"))
    assert precious.read_bytes() == b"keep me"
    (tmp_path / "new-link.db").symlink_to(tmp_path / "made-by-backup.db")
    result = sqlite_cli.json("db", "backup", str(tmp_path / "new-link.db"))
    assert result["path"] == str((tmp_path / "made-by-backup.db").resolve())
    assert (tmp_path / "new-link.db").is_symlink()
    assert Cli(db=str(tmp_path / "new-link.db")).json("partner", "list")[0]["name"] == "Acme"


# --- no stray temporary files -----------------------------------------------------------

KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from licensectl import fileio

target, kind = Path(sys.argv[1]), sys.argv[2]
if kind == "backup":
    with fileio.staged_output(target, what="backup", exclusive=True) as staged:
        staged.write_bytes(b"half a database" * 10000)
        Path(f"{staged}-journal").write_bytes(b"a journal")  # as SQLite leaves one
        os.kill(os.getpid(), signal.SIGKILL)
else:
    with fileio.open_output(target, what="export") as handle:
        handle.write(b"half an export" * 10000)
        handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
"""


@posix_only
@pytest.mark.parametrize("kind", ["export", "backup"])
def test_the_next_run_removes_a_killed_writers_files(
    sqlite_cli: Cli, tmp_path: Path, kind: str
) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    out = tmp_path / "out"
    out.mkdir()
    target = out / ("licenses.csv" if kind == "export" else "copy.db")
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target), kind])
    assert killed.returncode == -signal.SIGKILL
    left = strays(out)
    assert left and all(name.startswith(f".{target.name}.") for name in left)
    if kind == "backup":
        assert any(name.endswith(".tmp-journal") for name in left)
    if kind == "export":
        sqlite_cli.ok("export", "--out", str(target))
    else:
        sqlite_cli.ok("db", "backup", str(target))
    assert sorted(p.name for p in out.iterdir()) == [target.name]


@posix_only
@pytest.mark.slow
def test_a_killed_export_leaves_nothing_after_the_next_one(sqlite_cli: Cli, tmp_path: Path) -> None:
    """The report's case: `export --out` killed with SIGKILL half-way, then run again."""
    many_licenses(sqlite_cli, 30_000)
    assert sqlite_cli.db is not None
    out = tmp_path / "out"
    out.mkdir()
    target = out / "licenses.csv"
    proc = spawn("--db", sqlite_cli.db, "export", "--out", str(target))
    deadline = time.monotonic() + 120
    while not strays(out):
        assert proc.poll() is None, "the export ended before its temporary file was seen"
        assert time.monotonic() < deadline
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert strays(out)  # what the report found: `.licenses.csv.*.tmp`
    sqlite_cli.ok("export", "--out", str(target))
    assert sorted(p.name for p in out.iterdir()) == ["licenses.csv"]
    assert len(target.read_text().splitlines()) == 30_001


LIVE_WRITER = """
import sys
from pathlib import Path
from licensectl import fileio

with fileio.open_output(Path(sys.argv[1]), what="export") as handle:
    handle.write(b"from the live writer\\n")
    handle.flush()
    print("ready", flush=True)
    sys.stdin.readline()
"""


@posix_only
def test_a_live_writers_temporary_file_is_left_alone(sqlite_cli: Cli, tmp_path: Path) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    target = tmp_path / "licenses.csv"
    writer = subprocess.Popen(
        [sys.executable, "-c", LIVE_WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline() == "ready\n"
    sqlite_cli.ok("export", "--out", str(target))
    assert target.read_text().startswith("license_id,")
    assert len(strays(tmp_path)) == 1  # the live writer's, still in use
    writer.stdin.write("\n")
    writer.stdin.close()
    assert writer.wait(timeout=60) == 0
    assert target.read_text() == "from the live writer\n"
    assert strays(tmp_path) == []


# --- --out writes what the path is ----------------------------------------------------


@pytest.fixture
def portal(sqlite_cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """A store with a license in a customer account, and an activation request for it."""
    cli = sqlite_cli
    cli.ok("partner", "add", "Acme")
    cli.ok("customer", "add", "Site")
    lic = cli.ok(
        "license",
        "add",
        "--po",
        "PO-1",
        "--type",
        "capacity",
        "--devices",
        "200",
        "--quantity",
        "2",
    )
    moved = cli.ok("transfer", lic.stdout.strip(), "--to", "Site", "--yes").stdout.strip()
    request = tmp_path / "request.json"
    cli.ok(
        "smartserver",
        "request",
        "--install-code",
        "SS-1",
        "--license",
        moved,
        "--out",
        str(request),
    )
    return {"cli": cli, "request": str(request), "license": moved}


#: Each command with an output path: how to write PATH, and what stdout would get.
def out_commands(portal: dict[str, Any]) -> dict[str, tuple[list[str], Callable[[bytes], None]]]:
    cli: Cli = portal["cli"]
    response = cli.ok("activate-offline", portal["request"]).stdout_bytes  # changes licenses
    export = cli.ok("export").stdout_bytes
    pem = cli.ok("keys", "export-public").stdout_bytes

    def same(expected: bytes) -> Callable[[bytes], None]:
        def check(data: bytes) -> None:
            assert data == expected

        return check

    def request(data: bytes) -> None:
        assert json.loads(data)["install_code"] == "SS-1"

    def sqlite(data: bytes) -> None:
        assert data.startswith(b"SQLite format 3\x00")

    return {
        "export": (["export", "--out"], same(export)),
        "keys export-public": (["keys", "export-public", "--out"], same(pem)),
        "smartserver request": (
            [
                "smartserver",
                "request",
                "--install-code",
                "SS-1",
                "--license",
                portal["license"],
                "--out",
            ],
            request,
        ),
        "activate-offline": (["activate-offline", portal["request"], "--out"], same(response)),
        "db backup": (["db", "backup"], sqlite),
    }


COMMANDS = ["export", "keys export-public", "smartserver request", "activate-offline", "db backup"]


@posix_only
@pytest.mark.parametrize("command", COMMANDS)
def test_out_writes_through_a_symlink(portal: dict[str, Any], tmp_path: Path, command: str) -> None:
    args, check = out_commands(portal)[command]
    cli: Cli = portal["cli"]
    # a symlink to a file that does not exist yet: the file is made, the link kept
    link = tmp_path / "link.out"
    link.symlink_to(tmp_path / "target.out")
    cli.ok(*args, str(link))
    assert link.is_symlink() and os.readlink(link) == str(tmp_path / "target.out")
    check((tmp_path / "target.out").read_bytes())
    # a symlink to an existing file: its target is replaced (db backup refuses: exit 4)
    existing = tmp_path / "existing.out"
    existing.write_bytes(b"old")
    other = tmp_path / "other.out"
    other.symlink_to(existing)
    if command == "db backup":
        cli.fails(4, *args, str(other))
        assert existing.read_bytes() == b"old"
    else:
        cli.ok(*args, str(other))
        check(existing.read_bytes())
    assert other.is_symlink()
    assert strays(tmp_path) == []


def read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(path, "rb") as handle:
            into.append(handle.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


@posix_only
@pytest.mark.parametrize("command", COMMANDS)
def test_out_writes_into_a_fifo(portal: dict[str, Any], tmp_path: Path, command: str) -> None:
    args, check = out_commands(portal)[command]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = read_fifo(fifo, got)
    portal["cli"].ok(*args, str(fifo))
    reader.join(timeout=60)
    check(got[0])
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert strays(tmp_path) == []


@posix_only
@pytest.mark.parametrize("command", COMMANDS)
def test_out_writes_into_a_socket(portal: dict[str, Any], tmp_path: Path, command: str) -> None:
    args, check = out_commands(portal)[command]
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
            got.append(b"".join(chunks))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        portal["cli"].ok(*args, str(path))
        thread.join(timeout=60)
    finally:
        server.close()
    check(got[0])
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


@root_only
@pytest.mark.parametrize("command", COMMANDS)
def test_out_writes_into_a_device(portal: dict[str, Any], tmp_path: Path, command: str) -> None:
    """A device node stays a device node (the report: /dev/full became a regular file).
    A private copy of /dev/null, so that the test can never harm the real one."""
    args, _ = out_commands(portal)[command]
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("cannot make device nodes here")
    portal["cli"].ok(*args, str(null))
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert strays(tmp_path) == []


@posix_only
@pytest.mark.parametrize(
    "command", ["export", "keys export-public", "smartserver request", "activate-offline"]
)
def test_out_respects_the_umask_and_an_existing_mode(
    portal: dict[str, Any], tmp_path: Path, command: str
) -> None:
    args, check = out_commands(portal)[command]
    cli: Cli = portal["cli"]
    fresh, kept = tmp_path / "fresh.out", tmp_path / "kept.out"
    kept.write_bytes(b"old")
    kept.chmod(0o640)
    before = os.umask(0o077)
    try:
        cli.ok(*args, str(fresh))
        cli.ok(*args, str(kept))
    finally:
        os.umask(before)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    check(kept.read_bytes())
    before = os.umask(0o022)
    try:
        (tmp_path / "fresh.out").unlink()
        cli.ok(*args, str(fresh))
    finally:
        os.umask(before)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644


@posix_only
def test_backup_gets_the_umasks_mode(sqlite_cli: Cli, tmp_path: Path) -> None:
    sqlite_cli.ok("db", "upgrade")  # a new store, on purpose
    before = os.umask(0o077)
    try:
        sqlite_cli.ok("db", "backup", str(tmp_path / "private.db"))
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "private.db").stat().st_mode) == 0o600


@posix_only
def test_the_config_file_stays_private(sqlite_cli: Cli, isolated_home: Path) -> None:
    sqlite_cli.ok("profile", "add", "work", "--db", str(isolated_home / "work.db"))
    config = isolated_home / "config" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert strays(config.parent) == []


# --- writes that fail -------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("command", COMMANDS)
def test_a_full_device_is_one_error_line(
    portal: dict[str, Any], tmp_path: Path, command: str
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    args, _ = out_commands(portal)[command]
    full = tmp_path / "full.out"
    full.symlink_to("/dev/full")
    result = portal["cli"].fails(2, *args, str(full))
    assert "No space left on device" in result.stderr
    if command == "activate-offline":
        assert "the activation is recorded" in result.stderr
    assert full.is_symlink() and os.readlink(full) == "/dev/full"
    assert strays(tmp_path) == []


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024, resource.RLIM_INFINITY))


@posix_only
def test_an_export_that_runs_out_of_space_leaves_the_old_file(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    many_licenses(sqlite_cli, 2_000)  # ~300 kB of CSV against a 32 kB file size limit
    assert sqlite_cli.db is not None
    target = tmp_path / "licenses.csv"
    target.write_text("the old export\n")
    for args in (["export", "--out", str(target)], ["db", "backup", str(tmp_path / "b.db")]):
        done = licensectl("--db", sqlite_cli.db, *args, preexec_fn=_limit_file_size)
        assert done.returncode == 2, done.stderr
        error = one_error(done.stderr)
        # EFBIG: "File too large" from Python; SQLite calls it a "disk I/O error"
        assert "cannot write the" in error or "cannot back up" in error, error
        assert "too large" in error or "I/O" in error, error
    assert target.read_text() == "the old export\n"
    assert strays(tmp_path) == []
    assert not (tmp_path / "b.db").exists()


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs file systems (root only), unmounted afterwards."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        if os.name != "posix" or os.geteuid() != 0:
            pytest.skip("mounting needs root")
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_a_full_file_system_is_one_error_line(
    sqlite_cli: Cli, tiny_tmpfs: Callable[[str], Path]
) -> None:
    many_licenses(sqlite_cli, 2_000)
    disk = tiny_tmpfs("size=64k")
    sqlite_cli.fails(2, "export", "--out", str(disk / "licenses.csv"))
    result = sqlite_cli.fails(2, "db", "backup", str(disk / "copy.db"))
    assert "full" in result.stderr
    assert list(disk.iterdir()) == []


def test_backup_into_a_read_only_directory(
    sqlite_cli: Cli, tmp_path: Path, tiny_tmpfs: Callable[[str], Path]
) -> None:
    sqlite_cli.ok("partner", "add", "Acme")
    if os.name == "posix" and os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
    else:
        folder = tiny_tmpfs("ro,size=64k")
    result = sqlite_cli.fails(2, "db", "backup", str(folder / "copy.db"))
    assert "read-only" in result.stderr or "permission denied" in result.stderr
    sqlite_cli.fails(2, "export", "--out", str(folder / "licenses.csv"))
    assert list(folder.iterdir()) == []


# --- a stdout that cannot be written after a change ----------------------------------


@posix_only
def test_a_create_command_whose_stdout_fails_says_what_it_saved(
    portal: dict[str, Any], tmp_path: Path
) -> None:
    cli: Cli = portal["cli"]
    assert cli.db is not None
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    batch = json.dumps({"op": "customer.add", "name": "Batch Site", "partner": "Acme"}) + "\n"
    cases: list[tuple[list[str], str | None]] = [
        (["partner", "add", "Other"], None),
        (["customer", "add", "New Site", "--partner", "Acme"], None),
        (
            [
                "license",
                "add",
                "--partner",
                "Acme",
                "--po",
                "PO-9",
                "--type",
                "core",
                "--devices",
                "1",
            ],
            None,
        ),
        (["customer", "email", "add", "Site", "x@example.com"], None),
        (["activate", portal["license"], "--install-code", "SS-2"], None),
        (["keys", "rotate"], None),
        (["-o", "json", "import", "-"], HEADER + "Acme,PO-10,1,core,1,,,\n"),
        (["batch", "-"], batch),
        (["activate-offline", portal["request"]], None),
    ]
    errors = {}
    with open("/dev/full", "w") as full:
        for args, stdin in cases:
            done = licensectl(
                "--db", cli.db, *args, stdout=full, stderr=subprocess.PIPE, input=stdin
            )
            assert done.returncode == 2, (args, done.stderr)
            errors[" ".join(args[:2])] = error = one_error(done.stderr)
            assert "but standard output could not be written: No space left on device" in error
    # and each of those changes was made, as the messages said
    assert {p["name"] for p in cli.json("partner", "list")} == {"Acme", "Other"}
    names = {c["name"] for c in cli.json("customer", "list")}
    assert {"New Site", "Batch Site"} <= names
    pos = {x["purchase_order"] for x in cli.json("license", "list")}
    assert {"PO-9", "PO-10"} <= pos
    (key,) = cli.json("keys", "show")
    assert key["key_id"] in errors["keys rotate"]
    assert "the activation is recorded" in errors[f"activate-offline {portal['request']}"]
    # the created ID is in the message, so a script can still find what it made
    with open("/dev/full", "w") as full:
        done = licensectl(
            "--db",
            cli.db,
            "customer",
            "add",
            "Last",
            "-p",
            "Acme",
            stdout=full,
            stderr=subprocess.PIPE,
        )
    created = [c for c in cli.json("customer", "list") if c["name"] == "Last"][0]
    assert f"customer created (Customer ID {created['customer_id']})" in one_error(done.stderr)
    # a transfer too, with both new License IDs
    lic = cli.ok(
        *("license", "add", "-p", "Acme", "--po", "PO-T", "--type", "core"),
        *("--devices", "1", "--quantity", "2"),
    )
    with open("/dev/full", "w") as full:
        done = licensectl(
            *("--db", cli.db, "transfer", lic.stdout.strip(), "--to", "Site"),
            *("--quantity", "1", "--yes"),
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert done.returncode == 2
    history = cli.json("license", "history", lic.stdout.strip())
    for successor in history["descendants"]:
        assert successor["license_id"] in one_error(done.stderr)
