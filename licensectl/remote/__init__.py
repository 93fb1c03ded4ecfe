"""The remote profile: the Backend protocol over HTTP, against `licensectl serve`.

`RemoteBackend` (client.py) speaks the routes of `licensectl.contract.api` with httpx;
nothing here imports SQLAlchemy or SQLModel, so a remote command skips the database stack
(a subprocess test keeps it so).
"""

from licensectl.remote.client import RemoteBackend, RemoteSettings

__all__ = ["RemoteBackend", "RemoteSettings"]
