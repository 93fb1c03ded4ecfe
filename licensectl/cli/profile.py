"""`licensectl profile …`: named stores, so a command need not repeat `--db`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from licensectl import config
from licensectl.cli.context import get_app
from licensectl.cli.output import Column

app = typer.Typer(
    help="Profiles: named stores or servers, with an optional default partner.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("", lambda r: "*" if r.get("current") else ""),
    Column("Name", "name"),
    Column("Kind", "kind"),
    Column("Store or URL", lambda r: r.get("url") or r.get("db")),
    Column("Default partner", "partner"),
    Column("Password", "db_password", priority=1),
    Column("CA bundle", "ca_bundle", priority=2),
]


def _view(profile: config.Profile, current: str | None) -> dict[str, Any]:
    """What is shown of a profile: a plain dict, so that the profile commands need no
    pydantic (about 60 ms of every start-up, `--help` included, when imported here).

    `db` never shows a password (one left in an old config file is masked);
    `db_password` says where it is kept: "keyring", or null (none, or libpq's own).
    """
    db = None
    if profile.db is not None:
        from licensectl.store.url import redact_url

        db = redact_url(profile.db)
    return {
        "name": profile.name,
        "kind": profile.kind,
        "db": db,
        "url": profile.url,
        "ca_bundle": profile.ca_bundle,
        "partner": profile.partner,
        "db_password": profile.db_password,
        "current": profile.name == current,
    }


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Profile name.")],
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store: a SQLite path, sqlite:///PATH or postgresql+psycopg://…"),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="A licensectl server instead: https://HOST[:PORT]."),
    ] = None,
    ca_bundle: Annotated[
        str | None,
        typer.Option(
            "--ca-bundle", metavar="FILE", help="With --url: PEM file of the server's private CA."
        ),
    ] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", "-p", help="Partner used when --partner is left out.")
    ] = None,
) -> None:
    """Add a profile (a local store with --db, or a server with --url); the first one added
    becomes the current one.

    A password in a PostgreSQL URL is kept in the OS keyring, never in the config file;
    without a usable keyring, leave it out and let libpq read ~/.pgpass or PGPASSWORD.
    A server's API token is never in the config file either: run 'licensectl login'.
    """
    from licensectl.errors import UsageError

    if (db is None) == (url is None):
        raise UsageError("give a profile either --db (a local store) or --url (a server)")
    if url is not None:
        added = config.add_profile(
            config.Profile(
                name=name, url=_server_url(url), partner=partner, ca_bundle=_bundle(ca_bundle)
            )
        )
    else:
        if ca_bundle is not None:
            raise UsageError("--ca-bundle goes with --url: a local store has no certificate")
        from licensectl.store.url import normalize_db_url, password_of, without_password

        assert db is not None
        db_url = normalize_db_url(db)
        added = config.add_profile(
            config.Profile(name=name, db=without_password(db_url), partner=partner),
            password=password_of(db_url),
        )
    _, current = config.list_profiles()
    if current is None:
        config.use_profile(name)
    get_app(ctx).out.ids(_view(added, current or name), [name])


def _server_url(url: str) -> str:
    from licensectl.remote.client import check_url

    return check_url(url)


def _bundle(path: str | None) -> str | None:
    """The CA bundle as an absolute path, checked to be a PEM file of certificates."""
    if path is None:
        return None
    import ssl
    from pathlib import Path

    from licensectl.errors import UsageError

    full = Path(path).expanduser().resolve()
    try:
        ssl.create_default_context(cafile=str(full))
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"--ca-bundle {path}: not a readable PEM file of CA certificates ({exc})"
        ) from None
    return str(full)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List profiles; * marks the current one."""
    profiles, current = config.list_profiles()
    get_app(ctx).out.listing(
        [_view(p, current) for p in profiles], columns=COLUMNS, empty="no profiles"
    )


@app.command("use")
def use(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Profile name.")]) -> None:
    """Make a profile the current one."""
    config.use_profile(name)
    get_app(ctx).out.status(f"Now using profile {name!r}.")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Profile name (default: the current one).")
    ] = None,
) -> None:
    """Show a profile (the current one by default)."""
    profile = config.get_profile(name)
    if profile is None:
        from licensectl.errors import NotFoundError

        raise NotFoundError("no current profile: the embedded default store is in use")
    _, current = config.list_profiles()
    get_app(ctx).out.document(_view(profile, current), title=f"Profile {profile.name}")


@app.command("remove")
def remove(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Profile name.")]) -> None:
    """Remove a profile and its password in the keyring (its store is left untouched)."""
    config.remove_profile(name)
    get_app(ctx).out.status(f"Removed profile {name!r}.")
