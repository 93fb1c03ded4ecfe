"""`licensectl serve`: the portal's HTTP API, a FastAPI app over the local backend.

Routes only translate between HTTP and the contract (licensectl.contract); every rule
is the service's. Each request gets `LocalBackend(store, principal=…)` for the principal
its bearer token stands for, so scoping is exactly the service's. The route table is
`licensectl.contract.api`, which the remote client reads too; docs/api.md describes it.

Layout: `app.py` (the factory), `deps.py` (token → principal → backend), `errors.py`
(errors → statuses, once), `calls.py` (running service calls in the threadpool, with
idempotency keys), `streams.py` (request bodies in and answers out as they stream),
`limits.py` (body caps), `idempotency.py`, `logs.py`, `ready.py` and `routes/`.
"""
