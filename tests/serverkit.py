"""What the server tests share: the app in-process, a real server in a subprocess, a
throwaway certificate authority, and racing client processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

ROOT = Path(__file__).resolve().parent.parent


# --- the app in-process (httpx's ASGI transport) -----------------------------------------


class InProcess:
    """A synchronous client of an ASGI app, run in-process on a private event loop."""

    def __init__(self, app: Any, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self._stack = contextlib.ExitStack()
        self.portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=client),
            base_url="http://testserver",
            timeout=60,
        )
        self.token: str | None = None

    def request(
        self, method: str, url: str, *, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        token = token if token is not None else self.token
        if token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {token}"
        return self.portal.call(partial(self.client.request, method, url, headers=headers, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def close(self) -> None:
        self.portal.call(self.client.aclose)
        self._stack.close()


async def chunks(data: bytes, size: int = 1 << 14) -> AsyncIterator[bytes]:
    """A body sent without Content-Length (chunked), a piece at a time."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error body, checked for its shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "kind", "exit_code", "field"}, body
    return dict(body["error"])


# --- a throwaway certificate authority -----------------------------------------------------


@dataclass
class Tls:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_tls(folder: Path) -> Tls:
    """A CA made here, and a certificate it signed for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("licensectl test CA"))
        .issuer_name(name("licensectl test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    tls.key_file.chmod(0o600)
    return tls


# --- a real server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """`licensectl serve` in a subprocess, its whole log in a file."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    tls: Tls | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def client(
        self, token: str | None = None, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Client:
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        verify: Any = self.tls.context() if self.tls else True
        return httpx.Client(base_url=self.base, headers=headers, verify=verify, timeout=60, **kw)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)


def launch_server(
    db: str, folder: Path, *args: str, tls: Tls | None = None, env: dict[str, str] | None = None
) -> Server:
    """Start `licensectl serve` on a free loopback port; `wait_ready` waits for it."""
    port = free_port()
    log = folder / f"server-{port}.log"
    argv = [sys.executable, "-m", "licensectl", "--db", db, "serve", "--port", str(port), *args]
    if tls is not None:
        argv += ["--ssl-certfile", str(tls.cert_file), "--ssl-keyfile", str(tls.key_file)]
    full_env = {**os.environ, **(env or {})}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=full_env
        )
    return Server(process, port, log, tls, env or {})


def wait_ready(server: Server) -> Server:
    deadline = time.monotonic() + 120
    with server.client() as client:
        while True:
            if server.process.poll() is not None:
                raise AssertionError(
                    f"the server exited {server.process.returncode}:\n{server.log_text()}"
                )
            try:
                if client.get("/readyz").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                server.stop()
                raise AssertionError(f"the server did not get ready:\n{server.log_text()}")
            time.sleep(0.1)


def start_server(
    db: str, folder: Path, *args: str, tls: Tls | None = None, env: dict[str, str] | None = None
) -> Server:
    """Start `licensectl serve` on a free loopback port and wait until it is ready."""
    return wait_ready(launch_server(db, folder, *args, tls=tls, env=env))


# --- racing client processes ------------------------------------------------------------------

#: A client with nothing but the standard library. For each request spec (a JSON line on
#: stdin) it connects, says "ready", waits for "go", sends, and prints {"status", "body"}.
_CLIENT = r"""
import http.client, json, ssl, sys
for line in sys.stdin:
    spec = json.loads(line)
    if spec["ca"]:
        context = ssl.create_default_context(cafile=spec["ca"])
        conn = http.client.HTTPSConnection("127.0.0.1", spec["port"], context=context, timeout=120)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=120)
    conn.connect()
    print("ready", flush=True)
    sys.stdin.readline()
    conn.request(spec["method"], spec["path"], body=spec["body"].encode(), headers=spec["headers"])
    response = conn.getresponse()
    print(json.dumps({"status": response.status, "body": response.read().decode()}), flush=True)
    conn.close()
"""


class Racers:
    """Client processes, started once, that send requests all at the same moment."""

    def __init__(self, count: int) -> None:
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-c", _CLIENT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            for _ in range(count)
        ]

    def race(
        self,
        server: Server,
        requests: list[tuple[str, str, Any]],
        *,
        token: str,
        headers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Send each (method, path, JSON body or text) from its own process, all at once."""
        assert len(requests) <= len(self.processes)
        racing = self.processes[: len(requests)]
        for process, (method, path, body) in zip(racing, requests, strict=True):
            spec = {
                "port": server.port,
                "ca": str(server.tls.ca_file) if server.tls else None,
                "method": method,
                "path": path,
                "body": body if isinstance(body, str) else json.dumps(body),
                "headers": {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    **(headers or {}),
                },
            }
            self._send(process, json.dumps(spec))
        for process in racing:  # every client connected and waiting ...
            assert self._line(process) == "ready"
        for process in racing:  # ... go
            self._send(process, "go")
        return [json.loads(self._line(process)) for process in racing]

    @staticmethod
    def _send(process: subprocess.Popen[bytes], line: str) -> None:
        assert process.stdin is not None
        process.stdin.write(line.encode() + b"\n")
        process.stdin.flush()

    @staticmethod
    def _line(process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"a racing client died (exit {process.poll()})"
        return line.decode().strip()

    def close(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in self.processes:
            process.wait(timeout=60)


@contextlib.contextmanager
def serving(db: str, folder: Path, *args: str, **kw: Any) -> Iterator[Server]:
    server = start_server(db, folder, *args, **kw)
    try:
        yield server
    finally:
        server.stop()
