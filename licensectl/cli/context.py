"""The Application object every command receives through the Typer context."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from licensectl.cli.output import Environment, Output, OutputFormat
from licensectl.errors import Interrupted, UsageError

if TYPE_CHECKING:
    from licensectl.contract.protocol import Backend
    from licensectl.remote import RemoteSettings

#: The API token for a remote run; wins over the one `licensectl login` kept.
ENV_TOKEN = "LICENSECTL_TOKEN"


@dataclass
class Application:
    output_format: OutputFormat = OutputFormat.TABLE
    yes: bool = False
    no_input: bool = False
    quiet: bool = False
    #: CSV cells exactly as stored (`--raw`): no formula guard, no escaping.
    raw: bool = False
    debug: bool = False
    db: str | None = None
    #: `--url`: a licensectl server for this run (a remote profile without a profile).
    url: str | None = None
    #: `--ca-bundle`: the private CA of this run's server (else the profile's).
    ca_bundle: str | None = None
    profile: str | None = None
    env: Environment = field(default_factory=Environment)
    _backend: Backend | None = None

    @property
    def out(self) -> Output:
        return Output(self.output_format, quiet=self.quiet, env=self.env, raw=self.raw)

    def backend(self) -> Backend:
        """The store this run talks to, opened on first need (imports the DB stack).

        Typed as the protocol: a command that goes around it does not type-check.
        """
        if self._backend is None:
            remote = self.remote_settings()
            if remote is not None:
                from licensectl.remote import RemoteBackend

                self._backend = RemoteBackend(remote)
                return self._backend
            from licensectl import config
            from licensectl.service import LocalBackend

            if not self.debug:
                quiet_library_logs()
            profile = None if self.db is not None else config.get_profile(self.profile)
            url = self.store_url()
            self._backend = LocalBackend.open(
                url,
                # Only the embedded default store is created on first use (store/gate.py).
                embedded=url == config.default_db_url(),
                default_partner=profile.partner if profile else None,
            )
        return self._backend

    def remote_settings(self, *, token: str | None = None) -> RemoteSettings | None:
        """The server this run talks to (`--url`, or a remote profile), else None.

        The token: `token` if given, else LICENSECTL_TOKEN, else the one `licensectl login`
        kept in the OS keyring for the profile (none when the keyring cannot be used: the
        server's refusal then says to log in). No database code is imported here.
        """
        if self.db is not None:
            if self.url is not None:
                raise UsageError("give --db (a local store) or --url (a server), not both")
            return None
        if self.url is not None:
            from licensectl.remote import RemoteSettings

            return RemoteSettings.from_env(
                self.url,
                token=token or os.environ.get(ENV_TOKEN) or None,
                ca_bundle=self.ca_bundle,
            )
        from licensectl import config

        profile = config.get_profile(self.profile)
        if profile is None or not profile.url:
            return None
        from licensectl import credentials
        from licensectl.remote import RemoteSettings

        return RemoteSettings.from_env(
            profile.url,
            token=token or os.environ.get(ENV_TOKEN) or credentials.kept_token(profile.name),
            ca_bundle=self.ca_bundle or profile.ca_bundle,
            default_partner=profile.partner,
            profile=profile.name,
        )

    def store_url(self) -> str:
        """The URL of the local store this run names: `--db`, the profile's (its password
        from the keyring), or the embedded default (no database code imported)."""
        from licensectl import config
        from licensectl.store.url import normalize_db_url, password_of

        # `--db ""` is a mistake, not "unset": normalize_db_url refuses it. (An empty
        # LICENSECTL_DB never gets here: Click treats it as unset.)
        profile = None if self.db is not None else config.get_profile(self.profile)
        if self.db is not None:
            return normalize_db_url(self.db)
        if self.url is not None:
            raise UsageError("this command works on a local store, not a server: give --db")
        if profile is not None and profile.db:
            if password_of(profile.db):
                self.out.warn(
                    f"profile {profile.name!r} keeps its database password in the config "
                    f"file; move it to the OS keyring: licensectl profile remove "
                    f"{profile.name} && licensectl profile add {profile.name} --db URL"
                )
            return config.profile_db_url(profile)
        if profile is not None and profile.url:
            raise UsageError(
                f"profile {profile.name!r} is a remote profile ({profile.url}); this command "
                "works on a local store: give --db or a local profile"
            )
        return config.default_db_url()

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def confirm(self, question: str, *, what: str) -> None:
        """Ask on a terminal; `--yes` skips; no terminal or `--no-input` → exit 2."""
        if self.yes:
            return
        if self.no_input or not self.env.stdin_isatty:
            reason = "--no-input was given" if self.no_input else "there is no terminal to ask"
            raise UsageError(f"{what} needs confirmation and {reason}: pass --yes to go ahead")
        try:
            agreed = self.out.confirm(question)
        except KeyboardInterrupt:
            raise Interrupted(f"{what} cancelled (Ctrl-C); nothing was changed") from None
        if not agreed:
            raise Interrupted(f"{what} cancelled; nothing was changed")


def get_app(ctx: typer.Context) -> Application:
    obj = ctx.find_root().obj
    assert isinstance(obj, Application), "the root callback sets up the Application"
    return obj


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def given(**options: object) -> dict[str, object]:
    """The options a user gave: left-out ones take the request model's default."""
    return {name: value for name, value in options.items() if value is not None}


def quiet_library_logs() -> None:
    """Keep the libraries' own log records off the user's terminal.

    With no handler configured, Python prints a library's warnings through
    `logging.lastResort`, tracebacks included: SQLAlchemy's pool does so when Ctrl-C
    interrupts a PostgreSQL round trip ("Exception during reset or similar"). A user gets
    one `Error:` line instead; `--debug` leaves the records alone.
    """
    import logging

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
