"""The contract between the CLI (or the server) and a backend: requests, results, protocol.

Imports pydantic, the standard library and `licensectl.domain` only.
"""
