"""The command tree for the completion fast path (cli/complete.py), generated:
run `python -m licensectl.cli.complete` after changing commands or options
(tests/test_completion.py fails until you do)."""

from typing import Any

TREE: dict[str, dict[str, Any]] = {
    "": {
        "commands": [
            [
                "transfer",
                "Transfer a license; prints the new License ID (and the remainder's for a...",
            ],
            [
                "activate",
                "Online activation: the SmartServer holds COPIES of the license afterwards.",
            ],
            ["return", "Return every copy a SmartServer holds of a license, freeing them."],
            [
                "activate-offline",
                "Check an activation request, record it and write the signed activation response.",
            ],
            ["import", "Import purchased licenses from purchase-order lines: all rows or none."],
            [
                "export",
                "Export every license the filters select (those of `license list`), oldest first.",
            ],
            ["batch", "Run operations from JSON lines in one process; one JSON result line each."],
            ["serve", "Serve the portal's HTTP API over this store (--db or the profile's)."],
            [
                "login",
                "Log a remote profile in: check the token with the server, keep it in the OS...",
            ],
            ["logout", "Revoke the profile's token on the server (where it can) and forget it."],
            [
                "whoami",
                "Who this profile acts as: role, name, scope, profile and server (or local...",
            ],
            ["completion", "Print the shell completion script for bash, zsh or fish."],
            ["partner", "Partners: the system integrators that buy licenses."],
            ["customer", "Customer/project accounts of a partner."],
            ["license", "Licenses: add purchased ones, list, show, trace lineage."],
            ["search", "Search by customer name or purchase order."],
            ["profile", "Profiles: named stores or servers, with an optional default partner."],
            [
                "smartserver",
                "SmartServers: make activation requests, verify responses (device side), show...",
            ],
            ["keys", "The portal's signing keys for offline activation responses."],
            ["db", "The store itself: integrity, schema, backups."],
            ["token", "API tokens of 'licensectl serve': create (shown once), list, revoke."],
            [
                "report",
                "Reports: renewals, coverage, inventory and activity, as charts and tables.",
            ],
        ],
        "options": [
            [["--profile"], True, "Profile to use (a local store or a server)."],
            [
                ["--db"],
                True,
                "Store for this run: a SQLite path, sqlite:///PATH or postgresql+psycopg://…",
            ],
            [
                ["--url"],
                True,
                "A licensectl server for this run, https://HOST[:PORT] (token: LICENSECTL_TOKEN).",
            ],
            [
                ["--ca-bundle"],
                True,
                "PEM file of the private CA that signed the server's certificate.",
            ],
            [["-o", "--output"], True, "Output format; wide = a table with every column."],
            [
                ["--raw"],
                False,
                "CSV cells exactly as stored: no ' before =, +, -, @ and no escapes.",
            ],
            [["--yes"], False, "Answer yes to confirmations."],
            [["--no-input"], False, "Never prompt; fail with exit 2 instead."],
            [["--quiet", "-q"], False, "No progress bars or status lines."],
            [["--debug"], False, "Full traceback on errors."],
            [["--version"], False, "Show the version and exit."],
            [["--install-completion"], False, "Install completion for the current shell."],
            [
                ["--show-completion"],
                False,
                "Show completion for the current shell, to copy it or customize the installation.",
            ],
            [["--help", "-h"], False, "Show help."],
        ],
    },
    "transfer": {
        "commands": [],
        "options": [
            [
                ["--to"],
                True,
                "Receiving customer: Customer ID (or a unique prefix), or a name "
                "among the license's partner's.",
            ],
            [["--quantity"], True, "Copies to move (default all); the rest stay with the sender."],
            [["--dry-run"], False, "Show the result; change nothing."],
            [["--help"], False, "Show help."],
        ],
    },
    "activate": {
        "commands": [],
        "options": [
            [["--install-code"], True, "The SmartServer's install code (its identity)."],
            [
                ["--copies"],
                True,
                "Copies the SmartServer should hold afterwards (0 returns them all). (default: 1)",
            ],
            [["--name"], True, "SmartServer name, shown in the portal."],
            [["--help"], False, "Show help."],
        ],
    },
    "return": {
        "commands": [],
        "options": [
            [["--install-code"], True, "The SmartServer's install code (its identity)."],
            [["--help"], False, "Show help."],
        ],
    },
    "activate-offline": {
        "commands": [],
        "options": [
            [["--out"], True, "Write the signed response here (not stdout)."],
            [["--help"], False, "Show help."],
        ],
    },
    "import": {
        "commands": [],
        "options": [
            [
                ["--format"],
                True,
                "csv or jsonl (default: from the file name, .jsonl/.ndjson, else csv).",
            ],
            [["--dry-run"], False, "Check everything and report; write nothing."],
            [["--help"], False, "Show help."],
        ],
    },
    "export": {
        "commands": [],
        "options": [
            [
                ["--format"],
                True,
                "csv or jsonl (default: from the file name, .jsonl/.ndjson, else csv).",
            ],
            [["--out"], True, "Write to FILE (atomically), not stdout."],
            [["--partner", "-p"], True, "Only this partner's."],
            [["--customer", "-c"], True, "Only this customer's (ID or name)."],
            [["--inventory"], True, "mine = the partner's own inventory; customer = customers'."],
            [["--status"], True, "Only this status."],
            [["--type"], True, "Only this type."],
            [
                ["--expiring-within"],
                True,
                "Maintenance expiring within this many days. Beyond the calendar: all of it.",
            ],
            [["--help"], False, "Show help."],
        ],
    },
    "batch": {
        "commands": [],
        "options": [
            [
                ["--atomic"],
                False,
                "One transaction: stop at the first failure and undo everything.",
            ],
            [["--help"], False, "Show help."],
        ],
    },
    "serve": {
        "commands": [],
        "options": [
            [["--host"], True, "Address to listen on (loopback unless you say)."],
            [["--port"], True, "TCP port."],
            [["--workers"], True, "Worker processes (SQLite or PostgreSQL)."],
            [["--ssl-certfile"], True, "TLS certificate chain (PEM)."],
            [["--ssl-keyfile"], True, "TLS private key (PEM)."],
            [
                ["--forwarded-allow-ips"],
                True,
                "Proxies trusted for X-Forwarded-For/-Proto (comma-separated; default 127.0.0.1).",
            ],
            [["--upload-max"], True, "Largest import or batch body, in MiB."],
            [["--log-level"], True, "critical, error, warning, info or debug."],
            [["--help"], False, "Show help."],
        ],
    },
    "login": {
        "commands": [],
        "options": [
            [["--with-token"], False, "Read the token from standard input (scripts)."],
            [["--eid"], True, "Log a customer in with a License ID it holds."],
            [["--help"], False, "Show help."],
        ],
    },
    "logout": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "whoami": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "completion": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "partner": {
        "commands": [
            ["add", "Add a partner; prints its name."],
            ["list", "List partners."],
            ["rename", "Rename a partner (admin); the event log keeps the old name."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "partner add": {
        "commands": [],
        "options": [[["--email"], True, "Contact email."], [["--help"], False, "Show help."]],
    },
    "partner list": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "partner rename": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "customer": {
        "commands": [
            ["add", "Add a customer/project account; prints the new Customer ID."],
            ["list", "List customer accounts, oldest first."],
            ["show", "Show one customer account with its licenses (a page of them, oldest first)."],
            [
                "rename",
                "Rename a customer account; its Customer ID stays, the event log keeps the old...",
            ],
            ["note", 'Set (or, with "", clear) a customer account\'s note.'],
            [
                "remove",
                "Remove a customer account that never held a license (one added by mistake).",
            ],
            ["email", "Email contacts of a customer (each usable as a login)."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "customer add": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--email"], True, "Contact email, usable as a customer login (repeatable)."],
            [["--help"], False, "Show help."],
        ],
    },
    "customer list": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--limit"], True, "At most this many rows. (default: 100)"],
            [["--all"], False, "Every row, no limit."],
            [["--after"], True, "Only rows after this ID: the next page."],
            [["--help"], False, "Show help."],
        ],
    },
    "customer show": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--limit"], True, "At most this many rows. (default: 100)"],
            [["--all"], False, "Every row, no limit."],
            [["--after"], True, "Only rows after this ID: the next page."],
            [["--help"], False, "Show help."],
        ],
    },
    "customer rename": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--help"], False, "Show help."],
        ],
    },
    "customer note": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--help"], False, "Show help."],
        ],
    },
    "customer remove": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--help"], False, "Show help."],
        ],
    },
    "customer email": {
        "commands": [
            ["add", "Add an email contact to a customer."],
            ["remove", "Remove an email contact from a customer."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "customer email add": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--help"], False, "Show help."],
        ],
    },
    "customer email remove": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--help"], False, "Show help."],
        ],
    },
    "license": {
        "commands": [
            ["add", "Add a purchased license to a partner's inventory; prints the new License ID."],
            ["list", "List licenses (oldest first), retired ones included and marked."],
            ["show", "Show one license with its activations and successors."],
            [
                "history",
                "Lineage (ancestors and successors) and the events of one license (a page of...",
            ],
            ["note", 'Set (or, with "", clear) a license\'s note.'],
            [
                "void",
                "Void a license added by mistake (never transferred or activated); its PO line...",
            ],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "license add": {
        "commands": [],
        "options": [
            [["--po"], True, "Purchase order number."],
            [["--type"], True, "License type: capacity, maintenance or core."],
            [["--devices"], True, "Device count of one copy, e.g. 200."],
            [["--partner", "-p"], True, "Partner name (optional when the store has one partner)."],
            [["--po-line"], True, "Line within the purchase order. (default: 1)"],
            [
                ["--quantity"],
                True,
                "Copies; each can be activated on one SmartServer. (default: 1)",
            ],
            [["--term"], True, "Maintenance term in months: 12 or 36 (maintenance only)."],
            [["--note"], True, "Free-text note."],
            [["--help"], False, "Show help."],
        ],
    },
    "license list": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Only this partner's."],
            [["--customer", "-c"], True, "Only this customer's (ID or name)."],
            [["--inventory"], True, "mine = the partner's own inventory; customer = customers'."],
            [["--status"], True, "Only this status."],
            [["--type"], True, "Only this type."],
            [
                ["--expiring-within"],
                True,
                "Maintenance expiring within this many days. Beyond the calendar: all of it.",
            ],
            [["--limit"], True, "At most this many rows. (default: 100)"],
            [["--all"], False, "Every row, no limit."],
            [["--after"], True, "Only rows after this ID: the next page."],
            [["--help"], False, "Show help."],
        ],
    },
    "license show": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "license history": {
        "commands": [],
        "options": [
            [["--limit"], True, "At most this many rows. (default: 100)"],
            [["--all"], False, "Every row, no limit."],
            [["--after"], True, "Only rows after this ID: the next page."],
            [["--help"], False, "Show help."],
        ],
    },
    "license note": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "license void": {
        "commands": [],
        "options": [
            [
                ["--reason"],
                True,
                "Why the license is void, e.g. 'wrong PO line' (kept in its history).",
            ],
            [["--help"], False, "Show help."],
        ],
    },
    "search": {
        "commands": [
            ["customer", "Customers whose name contains TEXT, and their licenses."],
            ["po", "Licenses whose PO starts with (or equals) TEXT, retired ones included and..."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "search customer": {
        "commands": [],
        "options": [
            [["--limit"], True, "At most this many rows. (default: 100)"],
            [["--all"], False, "Every row, no limit."],
            [["--after"], True, "Only rows after this ID: the next page."],
            [["--help"], False, "Show help."],
        ],
    },
    "search po": {
        "commands": [],
        "options": [
            [["--exact"], False, "Only this exact PO."],
            [["--limit"], True, "At most this many rows. (default: 100)"],
            [["--all"], False, "Every row, no limit."],
            [["--after"], True, "Only rows after this ID: the next page."],
            [["--help"], False, "Show help."],
        ],
    },
    "profile": {
        "commands": [
            [
                "add",
                "Add a profile (a local store with --db, or a server with --url); the first...",
            ],
            ["list", "List profiles; * marks the current one."],
            ["use", "Make a profile the current one."],
            ["show", "Show a profile (the current one by default)."],
            [
                "remove",
                "Remove a profile and its password in the keyring (its store is left untouched).",
            ],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "profile add": {
        "commands": [],
        "options": [
            [["--db"], True, "Store: a SQLite path, sqlite:///PATH or postgresql+psycopg://…"],
            [["--url"], True, "A licensectl server instead: https://HOST[:PORT]."],
            [["--ca-bundle"], True, "With --url: PEM file of the server's private CA."],
            [["--partner", "-p"], True, "Partner used when --partner is left out."],
            [["--help"], False, "Show help."],
        ],
    },
    "profile list": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "profile use": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "profile show": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "profile remove": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "smartserver": {
        "commands": [
            ["request", "Write an activation request (device side) to carry to the portal."],
            ["verify", "Accept a response only if its signature verifies (device side); exit 7..."],
            [
                "inspect",
                "Show an activation request or response in human form (the signature is not...",
            ],
            [
                "show",
                "A SmartServer's capacity, maintenance coverage and active licenses (portal...",
            ],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "smartserver request": {
        "commands": [],
        "options": [
            [["--install-code"], True, "This SmartServer's install code."],
            [
                ["--license"],
                True,
                "License ID and the copies to hold afterwards (default 1; 0 returns). Repeatable.",
            ],
            [["--name"], True, "This SmartServer's name."],
            [["--out"], True, "Write the request here."],
            [["--help"], False, "Show help."],
        ],
    },
    "smartserver verify": {
        "commands": [],
        "options": [
            [
                ["--public-key"],
                True,
                "The portal's public key (PEM); default: the local portal's keys.",
            ],
            [
                ["--request"],
                True,
                "The request it answers: also check install code, nonce and content.",
            ],
            [["--help"], False, "Show help."],
        ],
    },
    "smartserver inspect": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "smartserver show": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "keys": {
        "commands": [
            ["show", "Every signing key: its id, public key, and which one signs new responses."],
            [
                "export-public",
                "The public key devices verify responses with (PEM); creates the first key if...",
            ],
            ["rotate", "Make a new active signing key; prints its id."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "keys show": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "keys export-public": {
        "commands": [],
        "options": [
            [["--out"], True, "Write the PEM here (not stdout)."],
            [["--key-id"], True, "An older key's id (default: the active key)."],
            [["--help"], False, "Show help."],
        ],
    },
    "keys rotate": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "db": {
        "commands": [
            [
                "check",
                "Check the store: the database file (SQLite), its schema and every license...",
            ],
            ["backup", "Copy a SQLite store to FILE, consistently, while others keep using it."],
            ["upgrade", "Bring the store's schema up to date (stores also upgrade on first use)."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "db check": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "db backup": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "db upgrade": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "token": {
        "commands": [
            ["create", "Create an API token; prints its secret, once."],
            [
                "list",
                "List API tokens: id, name, role, scope, created, last used, expiry; never a...",
            ],
            ["revoke", "Revoke an API token: every request with it is refused from then on."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "token create": {
        "commands": [],
        "options": [
            [["--role"], True, "What the token may do: admin, partner or customer."],
            [["--partner", "-p"], True, "The partner a partner or customer token is scoped to."],
            [["--customer"], True, "The customer (ID or name) a customer token is scoped to."],
            [["--name"], True, "A name for the token, shown in lists and recorded on events."],
            [["--expires-in"], True, "Days until the token expires (default: never)."],
            [["--help"], False, "Show help."],
        ],
    },
    "token list": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "token revoke": {"commands": [], "options": [[["--help"], False, "Show help."]]},
    "report": {
        "commands": [
            ["renewals", "Maintenance expiring soon, by month, customer and SmartServer."],
            [
                "coverage",
                "SmartServers whose unexpired maintenance covers less than their capacity,...",
            ],
            [
                "inventory",
                "Licenses and copies in force, free, activated, retired and void, with totals.",
            ],
            ["activity", "What happened, from the event log: events by day, actor and action."],
        ],
        "options": [[["--help"], False, "Show help."]],
    },
    "report renewals": {
        "commands": [],
        "options": [
            [["--within"], True, "Maintenance expiring within this many days. (default: 90)"],
            [["--partner", "-p"], True, "Only this partner's."],
            [
                ["--html"],
                True,
                "Also write the report as one self-contained HTML page (charts as SVG).",
            ],
            [["--help"], False, "Show help."],
        ],
    },
    "report coverage": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Only this partner's."],
            [
                ["--html"],
                True,
                "Also write the report as one self-contained HTML page (charts as SVG).",
            ],
            [["--help"], False, "Show help."],
        ],
    },
    "report inventory": {
        "commands": [],
        "options": [
            [["--partner", "-p"], True, "Only this partner's."],
            [["--by"], True, "Group by customer, po or type. (default: type)"],
            [
                ["--limit"],
                True,
                "At most this many groups (the total still counts every license). (default: 100)",
            ],
            [["--all"], False, "Every group, no limit."],
            [
                ["--html"],
                True,
                "Also write the report as one self-contained HTML page (charts as SVG).",
            ],
            [["--help"], False, "Show help."],
        ],
    },
    "report activity": {
        "commands": [],
        "options": [
            [["--since"], True, "Events from this day on (YYYY-MM-DD; default: 30 days ago)."],
            [
                ["--html"],
                True,
                "Also write the report as one self-contained HTML page (charts as SVG).",
            ],
            [["--help"], False, "Show help."],
        ],
    },
}
