"""One or two examples for every command, shown last in its `--help`.

Kept in one table so that a test can hold every command to it (tests/test_help.py): a
new command without examples fails the suite. Each line is a command a user could type
as is, after the `README`'s "A session".
"""

from __future__ import annotations

from typing import Final

LID = "b1e52546-f2db-4053-b2dd-2ab2fa7732d2"
CID = "2133c667-af41-4518-94df-a2bb3b775330"

EXAMPLES: Final[dict[str, tuple[str, ...]]] = {
    "partner add": ('licensectl partner add "Acme Integrators" --email ops@acme.example',),
    "partner list": ("licensectl partner list", "licensectl -o json partner list"),
    "customer add": (
        'CID=$(licensectl customer add "P2022-0208" --email owner@example.com)',
        'licensectl customer add "P-Building 1" --partner "Acme Integrators"',
    ),
    "customer list": (
        'licensectl customer list --partner "Acme Integrators"',
        "licensectl -o jsonl customer list --all",
    ),
    "customer show": ("licensectl customer show P2022-0208", f"licensectl customer show {CID}"),
    "customer email add": ("licensectl customer email add P2022-0208 ops@example.com",),
    "customer email remove": ("licensectl customer email remove P2022-0208 ops@example.com",),
    "license add": (
        "LID=$(licensectl license add --po PO-1001 --type capacity --devices 200 --quantity 3)",
        "licensectl license add --po PO-1001 --po-line 2 --type maintenance --devices 1000 "
        "--term 36",
    ),
    "license list": (
        "licensectl license list --customer P2022-0208 --status available",
        "licensectl -o json license list --type maintenance --expiring-within 90 --all",
    ),
    "license show": (f"licensectl license show {LID}",),
    "license history": (
        f"licensectl license history {LID}",
        f"licensectl -o json license history {LID}",
    ),
    "transfer": (
        f"licensectl transfer {LID} --to P2022-0208 --quantity 2 --dry-run",
        f"NEW=$(licensectl transfer {LID} --to P2022-0208 --yes)",
    ),
    "search customer": ("licensectl search customer building",),
    "search po": ("licensectl search po PO-10", "licensectl search po PO-1001 --exact --all"),
    "activate": (f"licensectl activate {LID} --install-code 5A7C-31F2-9D04-E86B --copies 2",),
    "return": (f"licensectl return {LID} --install-code 5A7C-31F2-9D04-E86B --yes",),
    "activate-offline": ("licensectl activate-offline request.json --out response.json",),
    "smartserver request": (
        f"licensectl smartserver request --install-code 5A7C-31F2-9D04-E86B --license {LID}:2 "
        "--out request.json",
    ),
    "smartserver verify": (
        "licensectl smartserver verify response.json --public-key portal.pem --request "
        "request.json",
    ),
    "smartserver inspect": ("licensectl smartserver inspect response.json",),
    "smartserver show": ("licensectl smartserver show 5A7C-31F2-9D04-E86B",),
    "import": ("licensectl import po-lines.csv --dry-run", "licensectl -o json import po.jsonl"),
    "export": (
        "licensectl export --out licenses.csv --partner 'Acme Integrators'",
        "licensectl export --format jsonl --status transferred > retired.jsonl",
    ),
    "batch": ("licensectl batch onboard.jsonl --atomic", "generate-ops | licensectl batch -"),
    "keys show": ("licensectl keys show",),
    "keys export-public": ("licensectl keys export-public --out portal.pem",),
    "keys rotate": ("licensectl keys rotate",),
    "profile add": (
        "licensectl profile add team --db postgresql://cs@db.example/licensectl --partner Acme",
        "licensectl profile add portal --url https://portal.example.com --ca-bundle corp-ca.pem",
    ),
    "profile list": ("licensectl profile list", "licensectl -o json profile list"),
    "profile use": ("licensectl profile use team",),
    "profile show": ("licensectl profile show team",),
    "profile remove": ("licensectl profile remove scratch",),
    "token create": (
        "licensectl token create --role partner --partner 'Acme Integrators' --name acme-ci "
        "--expires-in 90",
        "licensectl token create --role customer --customer P2022-0208",
    ),
    "token list": ("licensectl token list",),
    "login": (
        'echo "$PORTAL_TOKEN" | licensectl --profile portal login --with-token',
        f"licensectl --profile portal login --eid {LID}",
    ),
    "logout": ("licensectl --profile portal logout",),
    "whoami": ("licensectl whoami", "licensectl --profile portal -o json whoami"),
    "token revoke": ("licensectl token revoke 3f2a9c1d0b7e --yes",),
    "serve": (
        "licensectl serve --db postgresql://cs@db.example/licensectl --workers 2",
        "licensectl serve --host 0.0.0.0 --ssl-certfile cert.pem --ssl-keyfile key.pem",
    ),
    "db check": ("licensectl db check", "licensectl -o json db check"),
    "db backup": ("licensectl db backup ~/backups/licensectl-$(date +%F).db",),
    "db upgrade": ("licensectl db upgrade",),
}


#: The whole program's `--help`: a first session.
SESSION: Final = (
    "LID=$(licensectl license add --po PO-1001 --type capacity --devices 200 --quantity 3)",
    'licensectl transfer "$LID" --to P2022-0208 --quantity 2 --yes',
)


def epilog(path: str) -> str | None:
    """The examples of the command `path` (`license add`) as a help epilog; a group
    (`license`) shows the first example of each of its first two commands."""
    if path == "":
        lines: tuple[str, ...] = SESSION
    elif path in EXAMPLES:
        lines = EXAMPLES[path]
    else:
        lines = tuple(ex[0] for name, ex in EXAMPLES.items() if name.startswith(f"{path} "))[:2]
    if not lines:
        return None
    shown = "\n\n".join(line.replace("[", "\\[") for line in lines)
    return f"[bold]Examples[/bold]\n\n{shown}"
