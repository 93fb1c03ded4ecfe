"""Secrets in the OS keyring (the `keyring` package), never in a file of ours.

Every secret licensectl keeps sits under the service name ``licensectl``, keyed by an
entry name: a profile's database password under ``NAME:db-password`` (see
:func:`db_password_entry`), a remote profile's API token under ``NAME`` (see
:func:`token_entry`). Other kinds of secret take their own entry names, chosen so
that no two kinds can clash.

There is no fallback: when the keyring has no working backend, storing a secret is
refused (an AuthError, exit 5) with a hint saying where else the secret can live, and
nothing is written anywhere. `keyring` is imported only here and only when a secret is
actually needed: importing it costs a fifth of a second.
"""

from __future__ import annotations

from typing import Any

from licensectl.errors import AuthError

SERVICE = "licensectl"


def token_entry(profile: str) -> str:
    """The keyring entry holding a remote profile's API token: the profile's name (a
    profile name has no ':', so it never clashes with the other entries)."""
    return profile


def db_password_entry(profile: str) -> str:
    """The keyring entry holding a profile's database password."""
    return f"{profile}:db-password"


def _keyring(what: str, hint: str) -> Any:
    """The keyring backend in use, or an AuthError when there is no working one."""
    try:
        import keyring
        from keyring.backends import fail
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise AuthError(f"no OS keyring available for {what}: {hint}") from None
    try:
        backend = keyring.get_keyring()
    except (KeyringError, RuntimeError) as exc:
        raise AuthError(f"no usable OS keyring for {what} ({_reason(exc)}): {hint}") from None
    if isinstance(backend, fail.Keyring):
        raise AuthError(
            f"no usable OS keyring for {what} (the keyring package found no backend): {hint}"
        )
    return backend


def keyring_backend(what: str, hint: str) -> Any:
    """The working keyring backend, or an AuthError (exit 5) naming `what` and `hint`:
    to refuse before asking for a secret there would be nowhere to keep."""
    return _keyring(what, hint)


def _reason(exc: BaseException) -> str:
    # Keyring errors describe the backend ("locked collection"), never the secret.
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def set_secret(entry: str, secret: str, *, what: str, hint: str) -> None:
    """Keep `secret` under `entry`; AuthError (exit 5) when the keyring cannot."""
    from keyring.errors import KeyringError

    backend = _keyring(what, hint)
    try:
        backend.set_password(SERVICE, entry, secret)
    except (KeyringError, RuntimeError) as exc:
        raise AuthError(f"the OS keyring could not keep {what} ({_reason(exc)}): {hint}") from None


def get_secret(entry: str, *, what: str, hint: str) -> str | None:
    """The secret under `entry`, or None when the keyring holds none."""
    from keyring.errors import KeyringError

    backend = _keyring(what, hint)
    try:
        value = backend.get_password(SERVICE, entry)
    except (KeyringError, RuntimeError) as exc:
        raise AuthError(f"the OS keyring could not read {what} ({_reason(exc)}): {hint}") from None
    return value if isinstance(value, str) else None


def kept_token(profile: str) -> str | None:
    """The token `licensectl login` kept for a profile; None if none, or no keyring (the
    server's refusal then says to log in)."""
    try:
        return get_secret(
            token_entry(profile),
            what=f"the API token of profile {profile!r}",
            hint="set LICENSECTL_TOKEN",
        )
    except AuthError:
        return None


def delete_secret(entry: str, *, what: str, hint: str) -> bool:
    """Forget the secret under `entry`; False when there was none."""
    from keyring.errors import KeyringError, PasswordDeleteError

    backend = _keyring(what, hint)
    try:
        if backend.get_password(SERVICE, entry) is None:
            return False
        backend.delete_password(SERVICE, entry)
    except PasswordDeleteError:
        return False
    except (KeyringError, RuntimeError) as exc:
        raise AuthError(
            f"the OS keyring could not delete {what} ({_reason(exc)}): {hint}"
        ) from None
    return True
