"""`licensectl login`, `logout` and `whoami`: a remote profile's API token.

The token lives in the OS keyring only (service `licensectl`, user name the profile's
name; licensectl.credentials), never in a file of ours, and is never printed. Where no
keyring works, `login` refuses (exit 5) and says to use LICENSECTL_TOKEN instead; it
never falls back to a file.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from licensectl.cli.context import ENV_TOKEN, Application, get_app
from licensectl.errors import AuthError, LicensectlError, UsageError

if TYPE_CHECKING:
    from licensectl import config
    from licensectl.contract.models import Principal

NO_KEYRING_HINT = (
    f"set {ENV_TOKEN} in the environment instead (as in CI), or install and unlock a "
    "Secret Service (e.g. gnome-keyring) for the OS keyring; licensectl never writes a "
    "token to a file"
)


def _remote_profile(application: Application, command: str) -> config.Profile:
    """The profile `login`/`logout` acts on: --profile, else the current one; remote."""
    from licensectl import config

    if application.url is not None and application.profile is None:
        raise UsageError(
            f"'{command}' keeps the token under a profile: add one with 'licensectl profile "
            f"add NAME --url {application.url}' (for one run, set {ENV_TOKEN} instead)"
        )
    profile = config.get_profile(application.profile)
    if profile is None:
        raise UsageError(
            f"'{command}' needs a remote profile: add one with 'licensectl profile add NAME "
            "--url https://HOST[:PORT]'"
        )
    if not profile.url:
        raise UsageError(
            f"profile {profile.name!r} is a local store: there is nothing to log in to "
            "(use --profile with a remote profile)"
        )
    return profile


def _what(profile: str) -> str:
    return f"the API token of profile {profile!r}"


def _describe(who: Principal) -> str:
    if who.customer_id:
        scope = f"customer {who.customer_id}"
    elif who.partner:
        scope = f"partner {who.partner}"
    else:
        scope = "everything"
    return f"{who.role.value} {who.name!r} (scope: {scope})"


def _read_token(application: Application, with_token: bool) -> str:
    if with_token:
        text = sys.stdin.readline()
    else:
        if application.no_input or not application.env.stdin_isatty:
            reason = "--no-input was given" if application.no_input else "there is no terminal"
            raise UsageError(
                f"login asks for the token on a terminal and {reason}: pipe it in with "
                "--with-token, or use --eid"
            )
        try:
            text = typer.prompt("API token", hide_input=True, prompt_suffix=": ", err=True)
        except (KeyboardInterrupt, typer.Abort):
            from licensectl.errors import Interrupted

            raise Interrupted("login cancelled; nothing was stored") from None
    token = text.strip()
    if not token:
        raise UsageError("no token was given; nothing was stored")
    return token


def login(
    ctx: typer.Context,
    with_token: Annotated[
        bool, typer.Option("--with-token", help="Read the token from standard input (scripts).")
    ] = False,
    eid: Annotated[
        str | None,
        typer.Option(
            "--eid", metavar="LICENSE_ID", help="Log a customer in with a License ID it holds."
        ),
    ] = None,
) -> None:
    """Log a remote profile in: check the token with the server, keep it in the OS keyring.

    Asks for the token without echo; --with-token reads it from stdin; --eid gets a customer
    token for the account holding that license. The token is never printed or written to a file.
    """
    from licensectl import credentials
    from licensectl.contract.requests import EidLogin
    from licensectl.remote import RemoteBackend

    application = get_app(ctx)
    if with_token and eid is not None:
        raise UsageError("give --with-token or --eid, not both")
    profile = _remote_profile(application, "login")
    # Refuse before anything is asked or sent when there is nowhere to keep the token.
    credentials.keyring_backend(_what(profile.name), NO_KEYRING_HINT)
    if eid is not None:
        anonymous = application.remote_settings(token="")
        assert anonymous is not None
        public = RemoteBackend(_without_token(anonymous))
        try:
            token = public.login_eid(EidLogin(license_id=eid)).secret
        finally:
            public.close()
    else:
        token = _read_token(application, with_token)
    settings = application.remote_settings(token=token)
    assert settings is not None
    backend = RemoteBackend(settings)
    try:
        who = backend.whoami()
    except AuthError as exc:
        raise AuthError(
            f"the licensectl server at {settings.url} refused the token; nothing was stored"
            if exc.kind == "auth"
            else exc.message
        ) from None
    finally:
        backend.close()
    credentials.set_secret(
        credentials.token_entry(profile.name), token, what=_what(profile.name), hint=NO_KEYRING_HINT
    )
    out = application.out
    out.status(
        f"Logged in to {settings.url} as {_describe(who)}; profile {profile.name!r} keeps the "
        f"token in the OS keyring (service {credentials.SERVICE!r})."
    )
    import os

    if os.environ.get(ENV_TOKEN):
        out.warn(f"{ENV_TOKEN} is set and wins over the kept token while it is")


def _without_token(settings: Any) -> Any:
    from dataclasses import replace

    return replace(settings, token=None)


def logout(ctx: typer.Context) -> None:
    """Revoke the profile's token on the server (where it can) and forget it."""
    from licensectl import credentials
    from licensectl.remote import RemoteBackend

    application = get_app(ctx)
    out = application.out
    profile = _remote_profile(application, "logout")
    entry = credentials.token_entry(profile.name)
    hint = "make the keyring usable and try again"
    token = credentials.get_secret(entry, what=_what(profile.name), hint=hint)
    if token is None:
        out.status(f"Profile {profile.name!r} was not logged in; nothing to do.")
        return
    settings = application.remote_settings(token=token)
    assert settings is not None
    backend = RemoteBackend(settings)
    try:
        who = backend.whoami()
        if who.token_id is not None:
            backend.token_revoke(who.token_id)
        revoked = True
    except LicensectlError as exc:
        revoked = False
        reason = exc.message
    finally:
        backend.close()
    credentials.delete_secret(entry, what=_what(profile.name), hint=hint)
    if revoked:
        out.status(f"Logged out of {settings.url}: the token is revoked and forgotten.")
    else:
        out.warn(
            f"the server did not revoke the token ({reason}); it is forgotten here, and an "
            "admin can revoke it with 'licensectl token revoke'"
        )
    import os

    if os.environ.get(ENV_TOKEN):
        out.warn(f"{ENV_TOKEN} is still set: commands keep using that token")


def whoami(ctx: typer.Context) -> None:
    """Who this profile acts as: role, name, scope, profile and server (or local store)."""
    application = get_app(ctx)
    who = application.backend().whoami()
    settings = application.remote_settings()
    from licensectl import config

    profile = (
        None if (application.db or application.url) else config.get_profile(application.profile)
    )
    data: dict[str, Any] = {
        **who.model_dump(mode="json"),
        "profile": profile.name if profile else None,
        "server": settings.url if settings else None,
    }
    application.out.document(data, title="Who am I")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
