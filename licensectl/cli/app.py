"""The root command: global options, sub-command groups, and the one place errors
become an `Error:` line and an exit code.

Start-up matters for a CLI that scripts call thousands of times: nothing here imports
SQLAlchemy/SQLModel; commands import the service layer when they run, and a command's
module is imported, and the command built, only when a command line names it (`ENTRIES`).
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from licensectl import __version__
from licensectl.cli import helpstyle
from licensectl.cli.context import Application
from licensectl.cli.output import Environment, Output, OutputFormat
from licensectl.errors import ExitStatus, Interrupted, LicensectlError

# Options that may stand anywhere on the command line (docs/cli.md: before or after the
# command). Those taking a value are listed with True.
GLOBAL_OPTIONS: dict[str, bool] = {
    "--profile": True,
    "--db": True,
    "--url": True,
    "--ca-bundle": True,
    "-o": True,
    "--output": True,
    "--yes": False,
    "--no-input": False,
    "--quiet": False,
    "-q": False,
    "--debug": False,
    "--raw": False,
}


def hoist_global_options(args: list[str], local: frozenset[str] = frozenset()) -> list[str]:
    """Move global options found after the command to the front, where Click wants them.

    An option the command itself defines (`profile add --db`) is left to the command.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if name in local:
            rest.append(arg)
        elif arg.startswith("-o") and not arg.startswith("--") and len(arg) > 2:
            front.append(arg)  # -ojson
        elif name in GLOBAL_OPTIONS:
            front.append(arg)
            if GLOBAL_OPTIONS[name] and "=" not in arg and i + 1 < len(args):
                front.append(args[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _command_options(group: Any, args: list[str]) -> frozenset[str]:
    """The option names of the sub-command that `args` names, e.g. `profile add`."""
    command = group
    i = 0
    while i < len(args) and hasattr(command, "commands"):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("-"):
            name = arg.split("=", 1)[0]
            i += 2 if GLOBAL_OPTIONS.get(name) and "=" not in arg else 1
            continue
        sub = command.commands.get(arg)
        if sub is None:
            break
        command = sub
        i += 1
    if command is group:
        return frozenset()
    names = {opt for param in command.params for opt in getattr(param, "opts", [])}
    return frozenset(names & set(GLOBAL_OPTIONS))


#: The one message for Ctrl-C: each change is one transaction, so whatever was under
#: way was rolled back (a batch's earlier operations stay, as their result lines say).
INTERRUPTED = "interrupted; any change in progress was rolled back"


class _ClosedPipe(Exception):
    """The reader of stdout (or of a FIFO or socket given as --out) went away."""


@dataclass(frozen=True)
class Entry:
    """A command or group of the root, known without importing its module.

    `licensectl --help` lists the root's entries from these alone; a command line builds
    only the entry it names (Typer builds a command's parameters from its function's
    signature, which for all of them took longer than the rest of `--help`).
    """

    name: str
    panel: str
    #: The module: a group's is its `app` (a `typer.Typer`); a command's module
    #: registers it on the app it is given (`register(app)`).
    module: str
    #: The first paragraph of its help, as the root's `--help` lists it
    #: (tests/test_startup.py holds it to the command's own).
    help: str
    group: bool = False


# In the order they were registered (Click lists commands in that order within a panel).
ENTRIES: tuple[Entry, ...] = (
    Entry(
        "transfer",
        "Licenses",
        "licensectl.cli.transfer",
        "Transfer a license; prints the new License ID (and the remainder's for a partial one).",
    ),
    Entry(
        "activate",
        "Activation",
        "licensectl.cli.activate",
        "Online activation: the SmartServer holds COPIES of the license afterwards.",
    ),
    Entry(
        "return",
        "Activation",
        "licensectl.cli.activate",
        "Return every copy a SmartServer holds of a license, freeing them.",
    ),
    Entry(
        "activate-offline",
        "Activation",
        "licensectl.cli.activate",
        "Check an activation request, record it and write the signed activation response.",
    ),
    Entry(
        "import",
        "Bulk",
        "licensectl.cli.bulk",
        "Import purchased licenses from purchase-order lines: all rows or none.",
    ),
    Entry(
        "export",
        "Bulk",
        "licensectl.cli.bulk",
        "Export every license the filters select (those of `license list`), oldest first.",
    ),
    Entry(
        "batch",
        "Bulk",
        "licensectl.cli.batch",
        "Run operations from JSON lines in one process; one JSON result line each.",
    ),
    Entry(
        "serve",
        "Admin",
        "licensectl.cli.serve",
        "Serve the portal's HTTP API over this store (--db or the profile's).",
    ),
    Entry(
        "login",
        "Admin",
        "licensectl.cli.auth",
        "Log a remote profile in: check the token with the server, keep it in the OS keyring.",
    ),
    Entry(
        "logout",
        "Admin",
        "licensectl.cli.auth",
        "Revoke the profile's token on the server (where it can) and forget it.",
    ),
    Entry(
        "whoami",
        "Admin",
        "licensectl.cli.auth",
        "Who this profile acts as: role, name, scope, profile and server (or local store).",
    ),
    Entry(
        "completion",
        "Admin",
        "licensectl.cli.app",
        "Print the shell completion script for bash, zsh or fish.",
    ),
    Entry(
        "partner",
        "Accounts",
        "licensectl.cli.partner",
        "Partners: the system integrators that buy licenses.",
        group=True,
    ),
    Entry(
        "customer",
        "Accounts",
        "licensectl.cli.customer",
        "Customer/project accounts of a partner.",
        group=True,
    ),
    Entry(
        "license",
        "Licenses",
        "licensectl.cli.license",
        "Licenses: add purchased ones, list, show, trace lineage.",
        group=True,
    ),
    Entry(
        "search",
        "Accounts",
        "licensectl.cli.search",
        "Search by customer name or purchase order.",
        group=True,
    ),
    Entry(
        "profile",
        "Admin",
        "licensectl.cli.profile",
        "Profiles: named stores or servers, with an optional default partner.",
        group=True,
    ),
    Entry(
        "smartserver",
        "Activation",
        "licensectl.cli.smartserver",
        "SmartServers: make activation requests, verify responses (device side), show one.",
        group=True,
    ),
    Entry(
        "keys",
        "Admin",
        "licensectl.cli.keys",
        "The portal's signing keys for offline activation responses.",
        group=True,
    ),
    Entry(
        "db",
        "Admin",
        "licensectl.cli.db",
        "The store itself: integrity, schema, backups.",
        group=True,
    ),
    Entry(
        "token",
        "Admin",
        "licensectl.cli.token",
        "API tokens of 'licensectl serve': create (shown once), list, revoke.",
        group=True,
    ),
    Entry(
        "report",
        "Reports",
        "licensectl.cli.report",
        "Reports: renewals, coverage, inventory and activity, as charts and tables.",
        group=True,
    ),
)

# `licensectl --help` groups the commands by task, in this order.
PANELS = ("Accounts", "Licenses", "Activation", "Bulk", "Reports", "Admin")
PANEL_OF: dict[str, str] = {entry.name: entry.panel for entry in ENTRIES}


class LazyCommands(MutableMapping[str, Any]):
    """The root's commands by name, each built from its `Entry` on first access.

    Iterating gives the names and builds nothing; looking one up (`commands[name]`,
    `.get`, `.items()`) builds it, its module imported then.
    """

    def __init__(self, root: typer.Typer, entries: tuple[Entry, ...]) -> None:
        self._root = root
        self._entries = {entry.name: entry for entry in entries}
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        found = self._built.get(name)
        if found is None:
            found = self._built[name] = _build(self._root, self._entries[name])
        return found

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        if name not in self._entries:
            self._entries[name] = Entry(name, "", command.__module__, command.help or "")

    def __delitem__(self, name: str) -> None:
        del self._entries[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def built(self, name: str) -> Any:
        """The command if it was built already, else None."""
        return self._built.get(name)

    def placeholder(self, name: str) -> TyperCommand:
        """What the root's `--help` lists of an entry: name, help and panel, no params."""
        entry = self._entries[name]
        return TyperCommand(name=name, help=entry.help, rich_help_panel=entry.panel or None)


def _build(root: typer.Typer, entry: Entry) -> Any:
    """The Click command of one entry, as `typer.main.get_command` builds it."""
    module = importlib.import_module(entry.module)
    holder = typer.Typer()
    command: Any
    if entry.group:
        holder.add_typer(module.app, name=entry.name, rich_help_panel=entry.panel)
        command = typer.main.get_group_from_info(
            holder.registered_groups[0],
            pretty_exceptions_short=root.pretty_exceptions_short,
            rich_markup_mode=root.rich_markup_mode,
            suggest_commands=root.suggest_commands,
        )
    else:
        module.register(holder)
        info = next(c for c in holder.registered_commands if c.name == entry.name)
        info.rich_help_panel = entry.panel
        command = typer.main.get_command_from_info(
            info,
            pretty_exceptions_short=root.pretty_exceptions_short,
            rich_markup_mode=root.rich_markup_mode,
        )
    _attach_examples(command, entry.name)
    return command


class RootGroup(TyperGroup):
    """Hoists global options and turns every failure into one `Error:` line.

    Its commands are built on demand (`LazyCommands`): `licensectl partner list` builds
    the partner group only, and the root's `--help` lists every entry from `ENTRIES`
    without building any.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lazy = LazyCommands(app, ENTRIES)
        for name, command in self.commands.items():  # any added the eager way
            lazy[name] = command
        self.commands = lazy
        self._listing = False
        if self.epilog is None:
            self.epilog = _examples("")

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, hoist_global_options(args, _command_options(self, args)))

    def list_commands(self, ctx: Any) -> list[str]:  # noqa: ARG002 - Click's signature
        """By task (`PANELS`), so that `--help` shows its panels in that order (the names
        only: nothing is built)."""
        names = list(self.commands)
        order = {panel: i for i, panel in enumerate(PANELS)}
        return sorted(names, key=lambda n: order.get(PANEL_OF.get(n, ""), len(order)))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        lazy = self.commands
        if self._listing and isinstance(lazy, LazyCommands) and cmd_name in lazy:
            return lazy.built(cmd_name) or lazy.placeholder(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The root's help lists its entries as `ENTRIES` describe them: none is built."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        # Caught here, before Typer's main sees them: Typer turns Ctrl-C into a bare
        # exit 130 with no message, and a closed pipe into exit 1.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted(INTERRUPTED) from None
        except BrokenPipeError:
            raise _ClosedPipe from None
        except (typer.Exit, typer.Abort, typer.TyperException, Interrupted):
            raise
        except Exception as exc:
            # Clean-up that failed because of the interrupt (a rollback on a connection
            # the interrupt left half-way) must not hide it as an internal error.
            if _caused_by(exc, KeyboardInterrupt):
                raise Interrupted(INTERRUPTED) from None
            if _caused_by(exc, BrokenPipeError):
                raise _ClosedPipe from None
            raise

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or _env_debug()
        app: Application | None = None
        out = Output(OutputFormat.TABLE, quiet=False, env=Environment())
        code: int = ExitStatus.OK
        try:
            obj = extra.pop("obj", None)
            if isinstance(obj, Environment):
                obj = Application(env=obj)
            extra["obj"] = obj if obj is not None else Application()
            app = extra["obj"]
            result = super().main(
                args=argv,
                prog_name=prog_name or "licensectl",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            code = result if isinstance(result, int) else ExitStatus.OK
        except LicensectlError as exc:
            if debug:
                out.traceback(traceback.format_exc())
            out.error(_with_flag(exc))
            code = exc.exit_code
        except typer.Exit as exc:
            code = exc.exit_code
        except SystemExit as exc:
            # Click answers a broken pipe itself, with exit 1 (and quiets stdout for the
            # rest of the run); for us the reader leaving is not an error (below).
            if not isinstance(exc.__context__, BrokenPipeError):
                raise
            code = ExitStatus.OK
        except typer.Abort:
            out.error(INTERRUPTED)
            code = ExitStatus.INTERRUPTED
        except KeyboardInterrupt:
            out.error(INTERRUPTED)
            code = ExitStatus.INTERRUPTED
        except _ClosedPipe:
            # `licensectl license list | head`: the reader left; that is not a failure
            # (exit 0, nothing on stderr), so `| grep -q` works under `set -o pipefail`.
            _silence_stdout()
            code = ExitStatus.OK
        except typer.TyperException as exc:
            # Typer's (vendored Click) parse errors: unknown option, bad value, …
            code = int(getattr(exc, "exit_code", ExitStatus.USAGE))
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            if message.strip():
                out.error(message + (hint if code == ExitStatus.USAGE else ""))
            # else: a group run without a command; its help was shown instead
        except BrokenPipeError:
            _silence_stdout()
            code = ExitStatus.OK
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if debug:
                out.traceback(traceback.format_exc())
            out.error(
                f"internal error: {type(exc).__name__}: {exc}. This is a bug: please report "
                "it (run with --debug for the traceback)"
            )
            code = ExitStatus.ERROR
        finally:
            if app is not None:
                app.close()
        if standalone_mode:
            sys.exit(code)
        return code


#: The option that sets a request field, for errors that name the field at fault.
FIELD_FLAGS: dict[str, str] = {
    "partner": "--partner",
    "term_months": "--term",
    "quantity": "--quantity",
    "devices": "--devices",
    "po_line": "--po-line",
    "purchase_order": "--po",
    "expiring_within": "--expiring-within",
    "limit": "--limit",
    "after": "--after",
    "copies": "--copies",
    "install_code": "--install-code",
    "to": "--to",
    "customer": "--customer",
    "expires_in_days": "--expires-in",
}


def _with_flag(exc: LicensectlError) -> str:
    """The service names fields; on the command line, name the option that sets it."""
    flag = FIELD_FLAGS.get(exc.field or "")
    return f"{exc.message} ({flag})" if flag and flag not in exc.message else exc.message


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `kind` is in the chain of exceptions that led to `exc` (a `raise … from
    None` ends the chain: whoever wrote it has said what happened)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            return False
        else:
            current = current.__context__
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it at exit, and with the reader gone
    that flush would fail again and print a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file descriptor (tests, an embedding application)


def _attach_examples(group: Any, prefix: str) -> None:
    """Every command's examples (cli/examples.py) become the end of its `--help`; a
    group shows its first commands' first examples."""
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}".strip()
        if hasattr(command, "commands"):
            _attach_examples(command, path)
        if command.epilog is None:
            command.epilog = _examples(path)
    if group.epilog is None:
        group.epilog = _examples(prefix)


def _examples(path: str) -> str | None:
    from licensectl.cli.examples import epilog

    return epilog(path)


def _env_debug() -> bool:
    from licensectl.cli.context import env_flag

    return env_flag("LICENSECTL_DEBUG")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"licensectl {__version__}\n")
        raise typer.Exit()


helpstyle.apply()

app = typer.Typer(
    cls=RootGroup,
    name="licensectl",
    help="Administer SmartServer licenses: partners, customers, licenses, transfers, search.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _store_or_server(
    ctx: typer.Context, db: str | None, url: str | None
) -> tuple[str | None, str | None]:
    """`--db` or `--url`: given on the command line, one beats the other's environment
    variable (LICENSECTL_URL exported for a session, `--db` for one command); given the
    same way, both stay, and the backend refuses them as a usage error."""
    if db is not None and url is not None:
        # Typer's own (vendored) Click: its ParameterSource, compared by name.
        db_typed = getattr(ctx.get_parameter_source("db"), "name", None) == "COMMANDLINE"
        url_typed = getattr(ctx.get_parameter_source("url"), "name", None) == "COMMANDLINE"
        if db_typed and not url_typed:
            return db, None
        if url_typed and not db_typed:
            return None, url
    return db, url


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="LICENSECTL_PROFILE",
            help="Profile to use (a local store or a server).",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="LICENSECTL_DB",
            help="Store for this run: a SQLite path, sqlite:///PATH or postgresql+psycopg://…",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="LICENSECTL_URL",
            help="A licensectl server for this run, https://HOST[:PORT] (token: LICENSECTL_TOKEN).",
        ),
    ] = None,
    ca_bundle: Annotated[
        str | None,
        typer.Option(
            "--ca-bundle",
            envvar="LICENSECTL_CA_BUNDLE",
            metavar="FILE",
            help="PEM file of the private CA that signed the server's certificate.",
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "-o",
            "--output",
            envvar="LICENSECTL_OUTPUT",
            case_sensitive=False,
            help="Output format; wide = a table with every column.",
        ),
    ] = OutputFormat.TABLE,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="CSV cells exactly as stored: no ' before =, +, -, @ and no escapes.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Answer yes to confirmations.")] = False,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Never prompt; fail with exit 2 instead.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars or status lines.")
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="LICENSECTL_DEBUG", help="Full traceback on errors."),
    ] = False,
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    application = ctx.obj if isinstance(ctx.obj, Application) else Application()
    application.output_format = output
    application.yes = yes
    application.no_input = no_input
    application.quiet = quiet
    application.raw = raw
    application.debug = debug
    application.db, application.url = _store_or_server(ctx, db, url)
    application.ca_bundle = ca_bundle
    application.profile = profile
    ctx.obj = application


def completion(
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")],
) -> None:
    """Print the shell completion script for bash, zsh or fish.

    Besides commands and options it completes License IDs, customers, partners and
    profiles from the store. Source it, or install it where the shell looks.
    """
    from licensectl.cli import complete
    from licensectl.errors import UsageError

    name = shell.strip().lower()
    if name not in complete.SHELLS:
        raise UsageError(f"no completion for {shell!r}: use bash, zsh or fish")
    sys.stdout.write(complete.script(name))


def register(holder: typer.Typer) -> None:
    holder.command("completion")(completion)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    command = typer.main.get_command(app)
    code = command.main(args=argv, prog_name="licensectl", standalone_mode=False)
    return int(code) if isinstance(code, int) else 0
