"""Migration: compare names and purchase orders after NFKC normalisation.

Keys written before this migration were the case-folded text alone, so `Acme` and `Ａcme`
(fullwidth A) were two partners. This migration recomputes every key with
`domain.name_key` / `domain.po_key` (NFKC, case folded). It runs once, inside the
write transaction that brings a store up to date, and works on the tables as they
were at this migration, through plain SQL, whatever the models look like later.

Two names that were distinct may now be one. Nothing is renamed or deleted, and a name
that worked before keeps reaching the same row:
- a row whose key does not change keeps it;
- a row whose key changes takes the new key if no other row of the same scope (all
  partners; the customers of one partner; the original licenses of one partner and PO
  line) has it, oldest first;
- otherwise it takes the new key with ` #2` appended (` #3`, … if that is taken too).
  It stays reachable under that name (`--partner "Acme #2"`), and a customer by its
  Customer ID as before; a PO by its prefix, or exactly as `PO-1 #2`.
A transfer's successors share their original's PO key, so they follow it.
Only text outside ASCII can change key (ASCII folds the same both ways), so only those
rows are kept in memory, however large the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, column, select, table, update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import TableClause

from licensectl.domain import name_key, po_key

#: The column lengths of the keys (models.py at this migration).
NAME_KEY_MAX = 200
PO_KEY_MAX = 100
#: Keys of changing rows are parked here first, so that no UPDATE can meet a unique
#: index while keys move; a control character never occurs in a real key.
_PARKED = "\x01rekey {}"


@dataclass
class _Row:
    pk: int
    scope: tuple[object, ...]
    old: str
    new: str
    parent: str | None = None
    ident: str | None = None


def rekey_nfkc(conn: Connection) -> None:
    """Recompute the name keys of partners and customers and the PO keys of licenses."""
    partner = table("partner", column("id"), column("name"), column("name_key"))
    _rekey(
        conn,
        partner,
        pk=partner.c.id,
        text=partner.c.name,
        key=partner.c.name_key,
        scope=[],
        fold=name_key,
        limit=NAME_KEY_MAX,
    )
    customer = table(
        "customer", column("id"), column("partner_id"), column("name"), column("name_key")
    )
    _rekey(
        conn,
        customer,
        pk=customer.c.id,
        text=customer.c.name,
        key=customer.c.name_key,
        scope=[customer.c.partner_id],
        fold=name_key,
        limit=NAME_KEY_MAX,
    )
    _rekey_licenses(conn)


def _rekey(
    conn: Connection,
    tbl: TableClause,
    *,
    pk: ColumnElement[Any],
    text: ColumnElement[Any],
    key: ColumnElement[Any],
    scope: list[ColumnElement[Any]],
    fold: Callable[[str], str],
    limit: int,
) -> None:
    rows = [
        _Row(r[0], tuple(r[3:]), r[2], fold(r[1])[:limit])
        for r in conn.execute(select(pk, text, key, *scope).order_by(pk))
        if not r[1].isascii() and fold(r[1])[:limit] != r[2]
    ]
    if not rows:
        return
    final = _settle(conn, rows, pk=pk, key=key, scope=scope, limit=limit)
    _apply(conn, tbl, pk=pk, key=key, final=final)


def _rekey_licenses(conn: Connection) -> None:
    lic = table(
        "license",
        column("seq"),
        column("license_id"),
        column("partner_id"),
        column("po_line"),
        column("purchase_order"),
        column("po_key"),
        column("parent_id"),
    )
    changing: list[_Row] = []
    stmt = select(
        lic.c.seq,
        lic.c.purchase_order,
        lic.c.po_key,
        lic.c.partner_id,
        lic.c.po_line,
        lic.c.parent_id,
        lic.c.license_id,
    ).order_by(lic.c.seq)
    for found in conn.execute(stmt.execution_options(yield_per=10_000)):
        if found.purchase_order.isascii():
            continue
        new = po_key(found.purchase_order)[:PO_KEY_MAX]
        if new != found.po_key:
            changing.append(
                _Row(
                    found.seq,
                    (found.partner_id, found.po_line),
                    found.po_key,
                    new,
                    found.parent_id,
                    found.license_id,
                )
            )
    if not changing:
        return
    # Originals are unique per (partner, PO key, line); successors repeat their
    # original's key, so they take whatever it ends up with.
    originals = [r for r in changing if r.parent is None]
    final = _settle(
        conn,
        originals,
        pk=lic.c.seq,
        key=lic.c.po_key,
        scope=[lic.c.partner_id, lic.c.po_line],
        limit=PO_KEY_MAX,
        only=lic.c.parent_id.is_(None),
    )
    by_id = {r.ident: final[r.pk] for r in originals}
    for r in changing:
        if r.parent is not None:
            # A parent whose key did not change keeps this row's key as it was.
            by_id[r.ident] = final[r.pk] = by_id.get(r.parent, r.old)
    _apply(conn, lic, pk=lic.c.seq, key=lic.c.po_key, final=final)


def _settle(
    conn: Connection,
    rows: list[_Row],
    *,
    pk: ColumnElement[Any],
    key: ColumnElement[Any],
    scope: list[ColumnElement[Any]],
    limit: int,
    only: ColumnElement[bool] | None = None,
) -> dict[int, str]:
    """The key each changing row ends with: its new key, or that with ` #N`."""
    changing = {r.pk for r in rows}
    taken: set[tuple[object, ...]] = set()

    def holders(value: str, where: tuple[object, ...]) -> Iterable[Any]:
        conditions = [key == value, *(c == v for c, v in zip(scope, where, strict=True))]
        if only is not None:
            conditions.append(only)
        return (found for (found,) in conn.execute(select(pk).where(and_(*conditions))))

    def free(value: str, where: tuple[object, ...]) -> bool:
        if (*where, value) in taken:
            return False
        return all(found in changing for found in holders(value, where))

    final: dict[int, str] = {}
    for row in rows:
        value, n = row.new, 1
        while not free(value, row.scope):
            n += 1
            suffix = f" #{n}"
            value = row.new[: limit - len(suffix)] + suffix
        taken.add((*row.scope, value))
        final[row.pk] = value
    return final


def _apply(
    conn: Connection,
    tbl: TableClause,
    *,
    pk: ColumnElement[Any],
    key: ColumnElement[Any],
    final: dict[int, str],
) -> None:
    stmt = update(tbl).where(pk == bindparam("b_pk")).values({key: bindparam("b_key")})
    conn.execute(stmt, [{"b_pk": k, "b_key": _PARKED.format(k)} for k in final])
    conn.execute(stmt, [{"b_pk": k, "b_key": v} for k, v in final.items()])
