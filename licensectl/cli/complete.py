"""Shell completion of real objects, on a fast path that loads neither Typer nor SQLAlchemy.

A shell asks for completions by running `licensectl` with `_LICENSECTL_COMPLETE` set
(`complete_bash`, `complete_zsh` or `complete_fish`, as the scripts of `licensectl
completion SHELL` do; Click's spelling `bash_complete` is accepted too) and the words
typed so far. Where a License ID, a customer, a partner or a profile is expected, this
module answers from the store with the standard library's `sqlite3` (or `psycopg` for a
PostgreSQL store): a few index range scans that stop after `LIMIT` rows, so the answer
comes in well under the 300 ms a shell user notices, however big the store. On a server
(`--url`, `LICENSECTL_URL` or a remote profile) it asks the server's `complete` route
(contract/api.py) with `http.client`, the token of `LICENSECTL_TOKEN` or of `licensectl
login`, and a short timeout; an unreachable server, a missing or refused token, or any
other failure offers nothing, silently. Everywhere else (command and option names) it
hands over to Typer's own completion.

Imports the standard library, `licensectl.config` (for profiles) and
`licensectl.contract.api` (the route) only; `keyring` when a profile's token is needed.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

COMPLETE_VAR = "_LICENSECTL_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
#: Candidates offered at most (a shell shows no more than a screenful anyway); the
#: server's `complete` route offers as many (contract.fields.COMPLETE_LIMIT).
LIMIT = 50
#: Seconds a remote completion waits to connect, and then for the answer: a shell user
#: notices 300 ms, so a server slower than this offers nothing rather than a late list.
#: `LICENSECTL_COMPLETION_TIMEOUT` (seconds) sets another, for a slow link.
REMOTE_TIMEOUT = 0.25

#: Commands whose first argument is a License ID.
LICENSE_ARG = {
    ("transfer",),
    ("activate",),
    ("return",),
    ("license", "show"),
    ("license", "history"),
    ("license", "note"),
    ("license", "void"),
}
#: Commands whose License ID is one to act on: only licenses in force are offered.
IN_FORCE_ONLY = {("transfer",), ("activate",), ("return",), ("license", "void")}
#: Commands whose first argument is a customer.
CUSTOMER_ARG = {
    ("customer", "show"),
    ("customer", "rename"),
    ("customer", "note"),
    ("customer", "remove"),
    ("customer", "email", "add"),
    ("customer", "email", "remove"),
}
PARTNER_ARG = {("partner", "rename")}
PROFILE_ARG = {("profile", "use"), ("profile", "show"), ("profile", "remove")}
#: Options whose value names an object, and which.
OPTION_KIND = {
    "--to": "customer",
    "--customer": "customer",
    "--partner": "partner",
    "--profile": "profile",
}


@dataclass(frozen=True)
class Item:
    value: str
    help: str = ""


# --- the scripts ------------------------------------------------------------------------

_SCRIPTS = {
    "bash": """\
_licensectl_completion() {
    local IFS=$'\\n'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \\
                   COMP_CWORD=$COMP_CWORD \\
                   _LICENSECTL_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _licensectl_completion licensectl
""",
    "zsh": """\
#compdef licensectl

_licensectl_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" \\
    _LICENSECTL_COMPLETE=complete_zsh licensectl)
}

compdef _licensectl_completion licensectl
""",
    "fish": (
        "complete --command licensectl --no-files --arguments "
        '"(env _LICENSECTL_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args '
        '_TYPER_COMPLETE_ARGS=(commandline -cp) licensectl)" --condition '
        '"env _LICENSECTL_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=is-args '
        '_TYPER_COMPLETE_ARGS=(commandline -cp) licensectl"\n'
    ),
}


def script(shell: str) -> str:
    """The completion script for a shell: source it, or put it where the shell looks."""
    return _SCRIPTS[shell]


# --- the protocol -----------------------------------------------------------------------


def shell_of(instruction: str) -> str | None:
    """`complete_bash` (Typer's scripts) or `bash_complete` (Click's) → `bash`."""
    for shell in SHELLS:
        if instruction in (f"complete_{shell}", f"{shell}_complete"):
            return shell
    return None


def words_of(shell: str, env: Mapping[str, str]) -> tuple[list[str], str]:
    """The arguments before the word being completed, and that word so far."""
    if shell == "bash":
        words = _split(env.get("COMP_WORDS", ""))
        cword = int(env.get("COMP_CWORD", "0") or 0)
        return words[1:cword], (words[cword] if cword < len(words) else "")
    line = env.get("_TYPER_COMPLETE_ARGS", "")
    words = _split(line)[1:]
    if words and not line.endswith(" "):
        return words[:-1], words[-1]
    return words, ""


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an open quote: complete what is there
        return text.split()


def fast_path(env: Mapping[str, str] = os.environ) -> int | None:
    """Answer a completion request for an object, or None to let Typer answer it."""
    shell = shell_of(env.get(COMPLETE_VAR, ""))
    if shell is None:
        return None
    args, incomplete = words_of(shell, env)
    kind, command = target(args, incomplete)
    if kind is None:
        return None
    try:
        items = candidates(kind, command, incomplete, args, env)
    except Exception:  # noqa: BLE001 - completion must never print a traceback
        items = []
    return emit(shell, items, env)


def target(args: Sequence[str], incomplete: str) -> tuple[str | None, tuple[str, ...]]:
    """What the word being completed is (`license`, `customer`, `partner`, `profile`;
    `command` or `option` for names; None for what Typer must answer) and the command."""
    from licensectl.cli.completion_tree import TREE

    path: list[str] = []
    positionals = 0
    pending: str | None = None  # an option whose value comes next
    for word in args:
        if pending is not None:
            pending = None
            continue
        node = TREE.get(" ".join(path))
        if word.startswith("-"):
            if "=" not in word and _takes_value(word, node, TREE[""]):
                pending = word
        elif node is not None and node["commands"] and not positionals:
            path.append(word)  # a sub-command's name
        else:
            positionals += 1
    command = tuple(path)
    node = TREE.get(" ".join(path))
    if pending is not None:
        kind = OPTION_KIND.get(_long_name(pending, node, TREE[""]))
        return (kind, command) if kind else (None, command)
    if node is None:
        return None, command
    if incomplete.startswith("-"):
        return "option", command
    if node["commands"]:
        return "command", command
    if positionals:
        return None, command
    if command in LICENSE_ARG:
        return "license", command
    if command in CUSTOMER_ARG:
        return "customer", command
    if command in PARTNER_ARG:
        return "partner", command
    if command in PROFILE_ARG:
        return "profile", command
    return None, command


def _option(node: dict[str, Any] | None, root: dict[str, Any], name: str) -> list[Any] | None:
    for where in (node, root):
        for entry in (where or {}).get("options", []):
            if name in entry[0]:
                return list(entry)
    return None


def _takes_value(name: str, node: dict[str, Any] | None, root: dict[str, Any]) -> bool:
    found = _option(node, root, name)
    return bool(found and found[1])


def _long_name(name: str, node: dict[str, Any] | None, root: dict[str, Any]) -> str:
    found = _option(node, root, name)
    return next((n for n in found[0] if n.startswith("--")), name) if found else name


def tree_of(command: Any) -> dict[str, dict[str, Any]]:
    """The command tree the fast path completes names from: for each command path, its
    sub-commands and options (names, whether they take a value, help). Made from the
    Click command (`python -m licensectl.cli.complete` writes completion_tree.py; a test
    keeps it current)."""
    tree: dict[str, dict[str, Any]] = {}

    def walk(cmd: Any, path: str) -> None:
        subs = getattr(cmd, "commands", {})
        options = [
            [
                [*p.opts, *p.secondary_opts],
                not (p.is_flag or p.count),
                (p.help or "").split("\n")[0].strip(),
            ]
            for p in cmd.params
            if p.param_type_name == "option" and not p.hidden
        ]
        options.append([["--help", "-h"] if not path else ["--help"], False, "Show help."])
        tree[path] = {
            "commands": [[n, c.get_short_help_str(80)] for n, c in subs.items() if not c.hidden],
            "options": options,
        }
        for name, sub in subs.items():
            walk(sub, f"{path} {name}".strip())

    walk(command, "")
    return tree


def emit(shell: str, items: Sequence[Item], env: Mapping[str, str]) -> int:
    """Write the candidates the way the shell's script reads them."""
    out = sys.stdout
    if shell == "bash":
        out.write("\n".join(_bash_word(i.value) for i in items))
    elif shell == "zsh":
        if items:
            lines = "\n".join(_zsh_item(i) for i in items)
            out.write(f"_arguments '*: :(({lines}))'")
    else:
        action = env.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            return 0 if items else 1
        out.write("\n".join(f"{i.value}\t{i.help}" if i.help else i.value for i in items))
    out.flush()
    return 0


def _bash_word(value: str) -> str:
    """A candidate bash inserts as one word: spaces and quotes escaped."""
    return "".join(f"\\{c}" if c in " '\"\\$`()&;|<>*?[]!#~" else c for c in value)


def _zsh_item(item: Item) -> str:
    def esc(text: str) -> str:
        return (
            text.replace('"', '""')
            .replace("'", "''")
            .replace("$", "\\$")
            .replace("`", "\\`")
            .replace(":", r"\\:")
        )

    return f'"{esc(item.value)}":"{esc(item.help)}"' if item.help else f'"{esc(item.value)}"'


# --- the candidates ---------------------------------------------------------------------


def candidates(
    kind: str,
    command: tuple[str, ...],
    incomplete: str,
    args: Sequence[str],
    env: Mapping[str, str],
) -> list[Item]:
    if kind in ("command", "option"):
        from licensectl.cli.completion_tree import TREE

        node = TREE[" ".join(command)]
        if kind == "command":
            return [Item(n, h) for n, h in node["commands"] if n.startswith(incomplete)]
        return [
            Item(name, help_)
            for names, _, help_ in node["options"]
            for name in names
            if name.startswith(incomplete)
        ]
    if kind == "profile":
        from licensectl import config

        profiles, _ = config.list_profiles()
        return [
            Item(p.name, p.db or p.url or "") for p in profiles if p.name.startswith(incomplete)
        ]
    db = _store(args, env)
    if db is None:
        return []
    if isinstance(db, _Remote):
        wire = {"license": "license_in_force" if command in IN_FORCE_ONLY else "license"}
        return db.complete(wire.get(kind, kind), incomplete)
    with db:
        if kind == "license":
            return _licenses(db, incomplete, in_force_only=command in IN_FORCE_ONLY)
        if kind == "customer":
            return _customers(db, incomplete)
        return _partners(db, incomplete)


def _given(args: Sequence[str], name: str) -> str | None:
    found = None
    for i, word in enumerate(args[:-1]):
        if word == name:
            found = args[i + 1]
    for word in args:
        if word.startswith(name + "="):
            found = word.split("=", 1)[1]
    return found


class _Db:
    """A read-only connection with one placeholder style, whatever the engine."""

    def __init__(self, conn: Any, *, mark: str) -> None:
        self.conn = conn
        self.mark = mark

    def rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cursor = self.conn.execute(sql.replace("?", self.mark), tuple(params))
        return list(cursor.fetchall())

    def __enter__(self) -> _Db:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


class _Remote:
    """A licensectl server, asked through its `complete` route (one GET per keystroke)."""

    def __init__(self, base: str, token: str | None, ca_bundle: str | None, timeout: float) -> None:
        self.base = base
        self.token = token
        self.ca_bundle = ca_bundle
        self.timeout = timeout

    def complete(self, kind: str, prefix: str) -> list[Item]:
        import http.client
        import json
        from urllib.parse import urlencode, urlsplit

        from licensectl.contract.api import ROUTES

        if not self.token:
            return []  # the server would refuse: nothing to offer
        parts = urlsplit(self.base)
        route = ROUTES["complete"]
        query = urlencode({"kind": kind, "prefix": prefix})
        path = f"{parts.path.rstrip('/')}{route.path}?{query}"
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            import ssl

            if self.ca_bundle:
                context = ssl.create_default_context(cafile=self.ca_bundle)
            else:
                import certifi

                context = ssl.create_default_context(cafile=certifi.where())
            conn = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout, context=context
            )
        elif parts.scheme == "http":
            conn = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=self.timeout
            )
        else:
            return []
        try:
            conn.request(
                route.method,
                path,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Accept": "application/json",
                    "User-Agent": "licensectl-completion",
                },
            )
            answer = conn.getresponse()
            if answer.status != route.status:
                return []
            data = json.loads(answer.read())
        finally:
            conn.close()
        return [Item(str(i["value"]), str(i.get("help") or "")) for i in data["items"]]


def _store(args: Sequence[str], env: Mapping[str, str]) -> _Db | _Remote | None:
    """The store the command line names, opened read-only, or the server it names; None
    for a store that does not exist yet (completion never creates one)."""
    from licensectl import config

    db = _given(args, "--db") or env.get("LICENSECTL_DB") or None
    server = _given(args, "--url") or env.get("LICENSECTL_URL") or None
    ca_bundle = _given(args, "--ca-bundle") or env.get("LICENSECTL_CA_BUNDLE") or None
    timeout = float(env.get("LICENSECTL_COMPLETION_TIMEOUT") or REMOTE_TIMEOUT)
    if db is None and server is not None:
        return _Remote(server, env.get("LICENSECTL_TOKEN") or None, ca_bundle, timeout)
    url: str | None = None
    if db is None:
        profile = config.get_profile(_given(args, "--profile") or env.get("LICENSECTL_PROFILE"))
        if profile is not None and profile.url:
            from licensectl.credentials import kept_token

            token = env.get("LICENSECTL_TOKEN") or kept_token(profile.name)
            return _Remote(profile.url, token, ca_bundle or profile.ca_bundle, timeout)
        url = config.profile_db_url(profile) if profile is not None and profile.db else None
        if url is None:
            url = config.default_db_url()
    else:
        from licensectl.store.url import normalize_db_url

        url = normalize_db_url(db)
    if url.startswith("sqlite:///"):
        path = unquote(url[len("sqlite:///") :])
        if not os.path.exists(path):
            return None
        lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)
        return _Db(lite, mark="?")
    import psycopg

    pg = psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://", 1), connect_timeout=2
    )
    pg.read_only = True
    return _Db(pg, mark="%s")


def _fold(text: str) -> str:
    """`domain.name_key`, without importing the domain module."""
    if text.isascii():
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


_TOP = "\U0010ffff"


#: License IDs read in order before looking further by status (see `_licenses`).
WINDOW = 1000
_LICENSE_COLUMNS = "license_id, status, type, devices, quantity, purchase_order"


def _licenses(db: _Db, incomplete: str, *, in_force_only: bool) -> list[Item]:
    """License IDs starting with what was typed: available first, then activated (then,
    for show and history, retired ones), each in ID order.

    The first WINDOW IDs of the range come from the License ID index (a common status
    is all there); a status with too few of them there is rare, and the rest of it comes
    from the status index, from where the window ended. Either read stops early, so
    neither a common nor a rare status costs a scan of the store."""
    start = incomplete.strip().lower()
    end = start + "~"
    statuses = ["available", "activated"] + ([] if in_force_only else ["transferred", "void"])
    window = db.rows(
        f"SELECT {_LICENSE_COLUMNS} FROM license WHERE license_id >= ? AND license_id < ? "
        "ORDER BY license_id LIMIT ?",
        (start, end, WINDOW),
    )
    after = window[-1][0] if len(window) == WINDOW else None
    found: list[Item] = []
    for status in statuses:
        wanted = LIMIT - len(found)
        if wanted <= 0:
            break
        rows = [r for r in window if r[1] == status][:wanted]
        if after is not None and len(rows) < wanted:
            rows += db.rows(
                f"SELECT {_LICENSE_COLUMNS} FROM license WHERE status = ? AND license_id > ? "
                "AND license_id < ? ORDER BY license_id LIMIT ?",
                (status, after, end, wanted - len(rows)),
            )
        found.extend(
            Item(lid, f"{status} {kind} {devices}×{quantity} PO {po}")
            for lid, _, kind, devices, quantity, po in rows
        )
    return found


def _customers(db: _Db, incomplete: str) -> list[Item]:
    """Customer names starting with what was typed, and Customer IDs if it looks like one."""
    key = _fold(incomplete)
    rows = db.rows(
        "SELECT c.name, c.customer_id, p.name FROM customer c JOIN partner p ON p.id = "
        "c.partner_id WHERE c.name_key >= ? AND c.name_key < ? ORDER BY c.name_key LIMIT ?",
        (key, key + _TOP, LIMIT),
    )
    found = [Item(name, f"{cid} ({partner})") for name, cid, partner in rows]
    start = incomplete.strip().lower()
    if len(found) < LIMIT and all(c in "0123456789abcdef-" for c in start):
        rows = db.rows(
            "SELECT c.customer_id, c.name FROM customer c WHERE c.customer_id >= ? "
            "AND c.customer_id < ? ORDER BY c.customer_id LIMIT ?",
            (start, start + "~", LIMIT - len(found)),
        )
        found.extend(Item(cid, name) for cid, name in rows)
    return found


def _partners(db: _Db, incomplete: str) -> list[Item]:
    key = _fold(incomplete)
    rows = db.rows(
        "SELECT name, email FROM partner WHERE name_key >= ? AND name_key < ? "
        "ORDER BY name_key LIMIT ?",
        (key, key + _TOP, LIMIT),
    )
    return [Item(name, email or "") for name, email in rows]


if __name__ == "__main__":
    import pprint

    import typer as _typer

    from licensectl.cli.app import app

    target_file = os.path.join(os.path.dirname(__file__), "completion_tree.py")
    text = pprint.pformat(tree_of(_typer.main.get_command(app)), width=96, sort_dicts=False)
    with open(target_file, "w", encoding="utf-8") as handle:
        handle.write(
            '"""The command tree for the completion fast path (cli/complete.py), generated:\n'
            "run `python -m licensectl.cli.complete` after changing commands or options\n"
            '(tests/test_completion.py fails until you do)."""\n\n'
            "from typing import Any\n\n"
            f"TREE: dict[str, dict[str, Any]] = {text}\n"
        )
