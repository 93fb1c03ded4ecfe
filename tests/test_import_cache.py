"""SQLite: the import's page cache grows once the store's licenses outgrow it, and is
put back as it was when the import ends, whatever way it ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from licensectl.contract.requests import ImportOptions, PartnerAdd
from licensectl.service import LocalBackend, importing

pytestmark = pytest.mark.local_only  # SQLite's page cache

HEADER = "partner,purchase_order,po_line,type,devices,quantity,term_months,customer\n"


def lines(count: int, *, bad_last: bool = False) -> Iterator[str]:
    yield HEADER
    for n in range(count):
        customer = f"Site {n % 7}" if n % 5 == 0 else ""
        devices = "-3" if bad_last and n == count - 1 else "100"
        yield f"Acme,PO-{n},1,capacity,{devices},2,,{customer}\n"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = LocalBackend.open(f"sqlite:///{tmp_path / 'store.db'}")
    backend.partner_add(PartnerAdd(name="Acme"))
    try:
        yield backend
    finally:
        backend.close()


def cache_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The connection's cache_size after each batch the import writes."""
    seen: list[int] = []
    original = importing._Import._write

    def wrapped(self: Any, new: Any) -> None:
        original(self, new)
        seen.append(int(self.conn.exec_driver_sql("PRAGMA cache_size").scalar()))

    monkeypatch.setattr(importing._Import, "_write", wrapped)
    return seen


def store_cache_size(backend: LocalBackend) -> int:
    with backend.store.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or 0)


@pytest.mark.parametrize("how", ["ok", "bad row"])
def test_the_cache_grows_past_the_threshold_and_is_put_back(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr(importing, "IMPORT_BATCH", 100)
    monkeypatch.setattr(importing, "IMPORT_BIG_CACHE_FROM", 250)
    before = store_cache_size(backend)
    seen = cache_sizes(monkeypatch)
    summary = backend.import_licenses(lines(500, bad_last=how == "bad row"), ImportOptions())
    assert summary.ok is (how == "ok")
    small, big = -importing.IMPORT_CACHE_KIB, -importing.IMPORT_BIG_CACHE_KIB
    # 120 licenses a batch (20 transferred): the third batch reaches 360.
    assert seen == [small, small, big, big, big]
    assert store_cache_size(backend) == before


def test_a_small_import_keeps_the_small_cache(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "IMPORT_BATCH", 100)
    seen = cache_sizes(monkeypatch)
    assert backend.import_licenses(lines(300), ImportOptions()).ok
    assert seen == [-importing.IMPORT_CACHE_KIB] * 3
