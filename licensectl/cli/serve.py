"""`licensectl serve`: the portal's HTTP API over this store (store-side only)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from licensectl import gcpause
from licensectl.cli.context import get_app
from licensectl.errors import UsageError

if TYPE_CHECKING:
    from licensectl.contract.models import StoreSchema

#: Seconds SIGTERM waits for requests in flight before the server stops regardless.
GRACEFUL_SHUTDOWN: Final = 60


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless you say).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, max=64, help="Worker processes (SQLite or PostgreSQL)."),
    ] = 1,
    ssl_certfile: Annotated[
        str | None,
        typer.Option("--ssl-certfile", metavar="FILE", help="TLS certificate chain (PEM)."),
    ] = None,
    ssl_keyfile: Annotated[
        str | None, typer.Option("--ssl-keyfile", metavar="FILE", help="TLS private key (PEM).")
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            metavar="IPS",
            help="Proxies trusted for X-Forwarded-For/-Proto (comma-separated; default 127.0.0.1).",
        ),
    ] = None,
    upload_max: Annotated[
        int,
        typer.Option(
            "--upload-max",
            metavar="MIB",
            min=1,
            max=65536,
            help="Largest import or batch body, in MiB.",
        ),
    ] = 100,
    log_level: Annotated[
        str, typer.Option("--log-level", help="critical, error, warning, info or debug.")
    ] = "info",
) -> None:
    """Serve the portal's HTTP API over this store (--db or the profile's).

    Refuses a store whose schema is not current ('licensectl db upgrade' first). Stops on
    SIGTERM or Ctrl-C once the requests in flight are answered.
    """
    application = get_app(ctx)
    url = application.store_url()
    try:
        import uvicorn

        from licensectl.server.logs import log_config
        from licensectl.server.settings import SETTINGS_ENV, STORE_ENV, Settings
    except ImportError:
        raise UsageError(
            "licensectl serve needs the server extra: pip install 'licensectl[server]'"
        ) from None
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise UsageError("--ssl-certfile and --ssl-keyfile go together: give both, or neither")
    for option, path in (("--ssl-certfile", ssl_certfile), ("--ssl-keyfile", ssl_keyfile)):
        if path is not None and not os.access(Path(path).expanduser(), os.R_OK):
            raise UsageError(f"cannot read {option} {path}")
    if log_level.lower() not in ("critical", "error", "warning", "info", "debug"):
        raise UsageError(f"unknown --log-level {log_level!r}: use info, warning, error or debug")
    schema = _check_store(url)
    _check_listen(host, port)
    settings = Settings(upload_max=upload_max * 1024 * 1024)
    # The workers import the app by name and read these; a URL's password stays off
    # every command line and out of every log.
    os.environ[STORE_ENV] = url
    os.environ[SETTINGS_ENV] = settings.to_env()
    scheme = "https" if ssl_certfile else "http"
    out = application.out
    if not ssl_certfile and not _loopback(host):
        out.warn(
            f"serving plain HTTP on {host}: tokens cross the network unencrypted. Use "
            "--ssl-certfile/--ssl-keyfile, or a TLS reverse proxy in front (docs/api.md)"
        )
    out.status(
        f"Serving {schema.store} (schema {schema.version}) on {scheme}://{_show(host)}:{port} "
        f"with {workers} worker{'s' if workers != 1 else ''}; API docs at /docs. "
        "Stop with Ctrl-C or SIGTERM."
    )
    gcpause.release()  # a server runs for long: collect as usual
    try:
        uvicorn.run(
            "licensectl.server.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            log_config=log_config(log_level),
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
            server_header=False,
        )
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise UsageError("the server could not start: its log above says why") from None


def _check_store(url: str) -> StoreSchema:
    """The store's schema, refusing one that is out of date or not a licensectl store."""
    from licensectl.server.ready import require_current_schema
    from licensectl.store.engine import Store

    store = Store(url)
    try:
        schema = require_current_schema(store)
    finally:
        store.dispose()
    return schema


def _check_listen(host: str, port: int) -> None:
    """Refuse an address that cannot be listened on before the workers start."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {_show(host)}:{port}: {exc.strerror}; choose another --port"
            ) from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _show(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
