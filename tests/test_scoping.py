"""Scoping by principal: every operation of the Backend protocol × role × in/out of scope.

Two partners, Acme and Beta. The partner principal is Acme; the customer principal is
Acme's customer "A-One". What lies outside a principal's scope must answer exactly as a
missing object (exit 3); a forbidden action on something it can see is exit 5.
"""

from __future__ import annotations

import inspect
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import PG_URL, create_pg_database, drop_pg_database

from licensectl import activation as files
from licensectl.contract.protocol import Backend
from licensectl.contract.requests import (
    Activate,
    ActivityQuery,
    CompleteQuery,
    CoverageQuery,
    CustomerAdd,
    CustomerEmail,
    CustomerNote,
    CustomerRemove,
    CustomerRename,
    EidLogin,
    ImportOptions,
    InventoryQuery,
    LicenseAdd,
    LicenseFilter,
    LicenseNote,
    LicenseVoid,
    Page,
    PartnerAdd,
    PartnerRename,
    RenewalsQuery,
    Return,
    TokenCreate,
    Transfer,
)
from licensectl.domain import LicenseType, Role
from licensectl.errors import LicensectlError

ROLES = (Role.ADMIN, Role.PARTNER, Role.CUSTOMER)
OK = 0


@dataclass
class World:
    ids: dict[str, str]
    backends: dict[Role, Any]
    tmp: Path
    engine: str

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


def _build(admin: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    for partner in ("Acme", "Beta"):
        admin.partner_add(PartnerAdd(name=partner))
    for name, partner in (("A-One", "Acme"), ("A-Two", "Acme"), ("B-One", "Beta")):
        ids[name] = admin.customer_add(CustomerAdd(name=name, partner=partner)).customer_id
    line = iter(range(1, 100))

    def add(partner: str, po: str, **kw: Any) -> str:
        request = LicenseAdd(
            partner=partner, purchase_order=po, po_line=next(line), **{"type": "capacity", **kw}
        )
        return str(admin.license_add(request).license_id)

    def to(license_id: str, customer: str) -> str:
        result = admin.transfer(Transfer(license_id=license_id, to=ids[customer]))
        moved = str(result.transferred.license_id)
        ids[f"original-of-{moved}"] = license_id  # retired, in the partner's inventory
        return moved

    for role in ROLES:
        ids[f"inv-A-{role}"] = add("Acme", "PO-A", devices=200, quantity=3)
        ids[f"cap-A1-{role}"] = to(add("Acme", "PO-A", devices=200, quantity=3), "A-One")
    ids["maint-A1"] = to(
        add("Acme", "PO-A", type="maintenance", devices=1000, quantity=3, term_months=12),
        "A-One",
    )
    ids["inv-B"] = add("Beta", "PO-B", devices=100, quantity=2)
    ids["cap-B1"] = to(add("Beta", "PO-B", devices=100, quantity=2), "B-One")
    admin.activate(Activate(license_id=ids["cap-A1-admin"], install_code="SS-A1", copies=1))
    admin.activate(Activate(license_id=ids["cap-B1"], install_code="SS-B1", copies=1))
    return ids


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """The world, built once per engine; each test gets a copy of it (fast)."""
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("world") / "world.db")
    else:
        if not PG_URL:
            pytest.skip("set LICENSECTL_TEST_PG_URL to run the PostgreSQL tests")
        url = create_pg_database("licensectl_world")
    admin = LocalBackend.open(normalize_db_url(url))
    try:
        ids = _build(admin)
    finally:
        admin.close()
    yield request.param, url, ids
    if request.param == "postgres":
        drop_pg_database(url)


@pytest.fixture
def world(template: tuple[str, str, dict[str, str]], tmp_path: Path) -> Iterator[World]:
    from licensectl.contract.models import Principal
    from licensectl.service import LocalBackend
    from licensectl.store.url import normalize_db_url

    engine, url, ids = template
    if engine == "sqlite":
        copy = str(tmp_path / "store.db")
        shutil.copyfile(url, copy)
    else:
        copy = create_pg_database("licensectl_scope", template=url)
    principals = {
        Role.ADMIN: Principal(role=Role.ADMIN, name="test"),
        Role.PARTNER: Principal(role=Role.PARTNER, partner="Acme", name="acme-bot"),
        Role.CUSTOMER: Principal(role=Role.CUSTOMER, customer_id=ids["A-One"], name="a-one"),
    }
    backends = {
        role: LocalBackend.open(normalize_db_url(copy), principal=principal)
        for role, principal in principals.items()
    }
    try:
        yield World(ids, backends, tmp_path, engine)
    finally:
        for backend in backends.values():
            backend.close()
        if engine == "postgres":
            drop_pg_database(copy)


def outcome(call: Callable[[], Any]) -> tuple[int, Any]:
    try:
        return OK, call()
    except LicensectlError as exc:
        return exc.exit_code, exc.message


def request_file(w: World, code: str, license_id: str) -> bytes:
    req = files.new_request(install_code=code, name=None, licenses=[(license_id, 1)])
    return files.dump_file(req)


# Each case: a call (backend, world, role) and the exit code each role must get. A
# visibility case also names what each role must see.
Call = Callable[[Any, World, Role], Any]


@dataclass
class Case:
    op: str
    call: Call
    expect: dict[Role, int]
    sees: Callable[[Any], Any] | None = None
    seen: dict[Role, Any] | None = None


def every(code: int) -> dict[Role, int]:
    return dict.fromkeys(ROLES, code)


def codes(admin: int, partner: int, customer: int) -> dict[Role, int]:
    return {Role.ADMIN: admin, Role.PARTNER: partner, Role.CUSTOMER: customer}


def names(items: Any) -> set[str]:
    return {item.name for item in items}


def license_ids(w: World) -> Callable[[Any], set[str]]:
    return lambda items: {w.ids.get(f"@{i.license_id}", i.license_id) for i in items}


A1_LICENSES = {f"cap-A1-{r}" for r in ROLES} | {"maint-A1"}
ACME_LICENSES = A1_LICENSES | {f"inv-A-{r}" for r in ROLES}


def ids_of(w: World, keys: set[str], *, retired: bool) -> set[str]:
    """The License IDs of these keys, and (with `retired`) the originals they came from."""
    found = {w[k] for k in keys}
    if retired:
        found |= {w.ids[f"original-of-{i}"] for i in list(found) if f"original-of-{i}" in w.ids}
    return found


CASES: list[Case] = [
    Case("whoami", lambda b, w, r: b.whoami(), every(OK)),
    Case("partner_add", lambda b, w, r: b.partner_add(PartnerAdd(name=f"New {r}")), codes(0, 5, 5)),
    Case(
        "partner_list",
        lambda b, w, r: names(b.partner_list()),
        every(OK),
        seen={Role.ADMIN: {"Acme", "Beta"}, Role.PARTNER: {"Acme"}, Role.CUSTOMER: {"Acme"}},
    ),
    Case(
        "customer_add",
        lambda b, w, r: b.customer_add(CustomerAdd(name=f"C-{r}", partner="Acme")),
        codes(0, 0, 5),
    ),
    Case(
        "customer_add (other partner)",
        lambda b, w, r: b.customer_add(CustomerAdd(name=f"C-{r}", partner="Beta")),
        codes(0, 3, 3),
    ),
    Case(
        "customer_list",
        lambda b, w, r: names(b.customer_list(page=Page(limit=None)).items),
        every(OK),
        seen={
            Role.ADMIN: {"A-One", "A-Two", "B-One"},
            Role.PARTNER: {"A-One", "A-Two"},
            Role.CUSTOMER: {"A-One"},
        },
    ),
    Case("customer_show", lambda b, w, r: b.customer_show(w["A-One"]), every(OK)),
    Case("customer_show (by name)", lambda b, w, r: b.customer_show("A-One"), every(OK)),
    Case("customer_show (sibling)", lambda b, w, r: b.customer_show(w["A-Two"]), codes(0, 0, 3)),
    Case("customer_show (other partner)", lambda b, w, r: b.customer_show("B-One"), codes(0, 3, 3)),
    Case(
        "customer_email_add",
        lambda b, w, r: b.customer_email_add(
            CustomerEmail(customer=w["A-One"], email=f"{r}@example.com")
        ),
        codes(0, 0, 5),
    ),
    Case(
        "customer_email_add (other partner)",
        lambda b, w, r: b.customer_email_add(
            CustomerEmail(customer=w["B-One"], email=f"{r}@example.com")
        ),
        codes(0, 3, 3),
    ),
    Case(
        "customer_email_remove",
        lambda b, w, r: b.customer_email_remove(
            CustomerEmail(customer=w["A-One"], email="nobody@example.com")
        ),
        codes(3, 3, 5),  # in scope, but no such contact: 3; a customer may not change them
    ),
    Case(
        "customer_email_remove (other partner)",
        lambda b, w, r: b.customer_email_remove(
            CustomerEmail(customer=w["B-One"], email="nobody@example.com")
        ),
        every(3),
    ),
    Case(
        "partner_rename",
        lambda b, w, r: b.partner_rename(PartnerRename(partner="Acme", name="Acme")),
        codes(0, 5, 5),
    ),
    Case(
        "partner_rename (other partner)",
        lambda b, w, r: b.partner_rename(PartnerRename(partner="Beta", name="Beta")),
        codes(0, 3, 3),
    ),
    Case(
        "customer_rename",
        lambda b, w, r: b.customer_rename(CustomerRename(customer=w["A-One"], name="A-One")),
        codes(0, 0, 5),
    ),
    Case(
        "customer_rename (other partner)",
        lambda b, w, r: b.customer_rename(CustomerRename(customer="B-One", name="B-One")),
        codes(0, 3, 3),
    ),
    Case(
        "customer_note",
        lambda b, w, r: b.customer_note(CustomerNote(customer="A-One", note=f"by {r}")),
        codes(0, 0, 5),
    ),
    Case(
        "customer_note (sibling)",
        lambda b, w, r: b.customer_note(CustomerNote(customer=w["A-Two"], note=f"by {r}")),
        codes(0, 0, 3),
    ),
    Case(
        "customer_note (other partner)",
        lambda b, w, r: b.customer_note(CustomerNote(customer=w["B-One"], note=f"by {r}")),
        codes(0, 3, 3),
    ),
    Case(
        "customer_remove",
        lambda b, w, r: b.customer_remove(CustomerRemove(customer=w["A-One"])),
        codes(4, 4, 5),  # it holds licenses
    ),
    Case(
        "customer_remove (other partner)",
        lambda b, w, r: b.customer_remove(CustomerRemove(customer=w["B-One"])),
        codes(4, 3, 3),
    ),
    Case(
        "license_note",
        lambda b, w, r: b.license_note(LicenseNote(license_id=w["cap-A1-admin"], note=r)),
        codes(0, 0, 5),
    ),
    Case(
        "license_note (inventory)",
        lambda b, w, r: b.license_note(LicenseNote(license_id=w["inv-A-admin"], note=r)),
        codes(0, 0, 3),
    ),
    Case(
        "license_note (other partner)",
        lambda b, w, r: b.license_note(LicenseNote(license_id=w["cap-B1"], note=r)),
        codes(0, 3, 3),
    ),
    Case(
        "license_void",
        lambda b, w, r: b.license_void(LicenseVoid(license_id=w[f"inv-A-{r}"], reason="x")),
        codes(0, 5, 3),  # voiding undoes a purchase: the admin's, as adding one is
    ),
    Case(
        "license_void (activated)",
        lambda b, w, r: b.license_void(LicenseVoid(license_id=w["cap-A1-admin"], reason="x")),
        codes(4, 5, 5),
    ),
    Case(
        "license_void (other partner)",
        lambda b, w, r: b.license_void(LicenseVoid(license_id=w["inv-B"], reason="x")),
        codes(0, 3, 3),
    ),
    Case(
        "license_add",
        lambda b, w, r: b.license_add(
            LicenseAdd(partner="Acme", purchase_order=f"PO-{r}", type="core", devices=1)
        ),
        codes(0, 5, 5),
    ),
    Case(
        "license_add (other partner)",
        lambda b, w, r: b.license_add(
            LicenseAdd(partner="Beta", purchase_order=f"PO-{r}", type="core", devices=1)
        ),
        codes(0, 3, 3),
    ),
    Case(
        "license_list",
        lambda b, w, r: {i.license_id for i in b.license_list(LicenseFilter()).items},
        every(OK),
    ),
    Case(
        "complete (licenses)",
        lambda b, w, r: {c.value for c in b.complete(CompleteQuery(kind="license")).items},
        every(OK),
    ),
    Case(
        "complete (customers, names and IDs)",
        lambda b, w, r: {
            {w[n]: n for n in ("A-One", "A-Two", "B-One")}.get(c.value, c.value)
            for c in b.complete(CompleteQuery(kind="customer")).items
        },
        every(OK),
        seen={
            Role.ADMIN: {"A-One", "A-Two", "B-One"},
            Role.PARTNER: {"A-One", "A-Two"},
            Role.CUSTOMER: {"A-One"},
        },
    ),
    Case(
        "complete (partners)",
        lambda b, w, r: {c.value for c in b.complete(CompleteQuery(kind="partner")).items},
        every(OK),
        seen={Role.ADMIN: {"Acme", "Beta"}, Role.PARTNER: {"Acme"}, Role.CUSTOMER: {"Acme"}},
    ),
    Case("license_show", lambda b, w, r: b.license_show(w["cap-A1-admin"]), every(OK)),
    Case(
        "license_show (inventory)", lambda b, w, r: b.license_show(w["inv-A-admin"]), codes(0, 0, 3)
    ),
    Case(
        "license_show (other partner)", lambda b, w, r: b.license_show(w["cap-B1"]), codes(0, 3, 3)
    ),
    Case("license_history", lambda b, w, r: b.license_history(w["cap-A1-admin"]), every(OK)),
    Case(
        "license_history (other partner)",
        lambda b, w, r: b.license_history(w["cap-B1"]),
        codes(0, 3, 3),
    ),
    Case(
        "transfer",
        lambda b, w, r: b.transfer(Transfer(license_id=w[f"inv-A-{r}"], to="A-Two")),
        codes(0, 0, 3),  # the partner's inventory is not a customer's to see
    ),
    Case(
        "transfer (own license, by a customer)",
        lambda b, w, r: b.transfer(Transfer(license_id=w[f"cap-A1-{r}"], to="A-Two", quantity=1)),
        codes(4, 0, 5),  # admin: its copy is activated
    ),
    Case(
        "transfer (other partner)",
        lambda b, w, r: b.transfer(Transfer(license_id=w["inv-B"], to="B-One", dry_run=True)),
        codes(0, 3, 3),
    ),
    Case(
        "transfer (to another partner's customer)",
        lambda b, w, r: b.transfer(
            Transfer(license_id=w[f"inv-A-{r}"], to=w["B-One"], dry_run=True)
        ),
        codes(4, 3, 3),
    ),
    Case(
        "search_customers",
        lambda b, w, r: names(b.search_customers("one", page=Page(limit=None)).items),
        every(OK),
        seen={
            Role.ADMIN: {"A-One", "B-One"},
            Role.PARTNER: {"A-One"},
            Role.CUSTOMER: {"A-One"},
        },
    ),
    Case(
        "search_po",
        lambda b, w, r: {i.license_id for i in b.search_po("po-", page=Page(limit=None)).items},
        every(OK),
    ),
    Case(
        "activate",
        lambda b, w, r: b.activate(Activate(license_id=w[f"cap-A1-{r}"], install_code=f"SS-{r}")),
        every(OK),
    ),
    Case(
        "activate (maintenance)",
        lambda b, w, r: b.activate(Activate(license_id=w["maint-A1"], install_code=f"SS-{r}")),
        codes(0, 0, 5),
    ),
    Case(
        "activate (other partner)",
        lambda b, w, r: b.activate(Activate(license_id=w["cap-B1"], install_code=f"SS-{r}")),
        codes(0, 3, 3),
    ),
    Case(
        "activate (partner inventory)",
        lambda b, w, r: b.activate(Activate(license_id=w["inv-A-admin"], install_code="SS-X")),
        codes(4, 4, 3),
    ),
    Case(
        "return_license",
        lambda b, w, r: b.return_license(
            Return(license_id=w["cap-A1-admin"], install_code="SS-A1")
        ),
        every(OK),
    ),
    Case(
        "return_license (other partner)",
        lambda b, w, r: b.return_license(Return(license_id=w["cap-B1"], install_code="SS-B1")),
        codes(0, 3, 3),
    ),
    Case(
        "activate_offline",
        lambda b, w, r: b.activate_offline(request_file(w, f"OFF-{r}", w[f"cap-A1-{r}"])),
        every(OK),
    ),
    Case(
        "activate_offline (other partner)",
        lambda b, w, r: b.activate_offline(request_file(w, f"OFF-{r}", w["cap-B1"])),
        codes(0, 3, 3),
    ),
    Case("smartserver_show", lambda b, w, r: b.smartserver_show("SS-A1"), every(OK)),
    Case(
        "smartserver_show (other partner)",
        lambda b, w, r: b.smartserver_show("SS-B1"),
        codes(0, 3, 3),
    ),
    Case(
        "import_licenses",
        lambda b, w, r: b.import_licenses(
            ["partner,purchase_order,type,devices\n", f"Acme,PO-IMP-{r},core,1\n"],
            ImportOptions(),
        ),
        codes(0, 5, 5),
    ),
    Case(
        "export_licenses",
        lambda b, w, r: {
            i.license_id for batch in b.export_licenses(LicenseFilter()) for i in batch
        },
        every(OK),
    ),
    Case(
        "run_batch",
        lambda b, w, r: [
            (x.ok, x.error.exit_code if x.error else 0)
            for x in b.run_batch(
                [
                    json.dumps({"op": "customer.add", "name": f"Batch-{r}", "partner": "Acme"}),
                    json.dumps({"op": "customer.add", "name": f"Batch-{r}", "partner": "Beta"}),
                ]
            )
        ],
        every(OK),
        seen={
            Role.ADMIN: [(True, 0), (True, 0)],
            Role.PARTNER: [(True, 0), (False, 3)],
            Role.CUSTOMER: [(False, 5), (False, 3)],
        },
    ),
    Case(
        "token_create",
        lambda b, w, r: b.token_create(TokenCreate(role=Role.PARTNER, partner="Acme")),
        codes(0, 5, 5),
    ),
    Case(
        "token_create (a customer of another partner)",
        lambda b, w, r: b.token_create(TokenCreate(role=Role.CUSTOMER, customer=w["B-One"])),
        codes(0, 5, 5),
    ),
    Case("token_list", lambda b, w, r: b.token_list(), codes(0, 5, 5)),
    Case(
        "token_revoke (another's)",
        lambda b, w, r: b.token_revoke(admin_token(w)),
        codes(0, 3, 3),  # a token not one's own is as if it did not exist
    ),
    Case("token_revoke (its own)", lambda b, w, r: revoke_own(b, w), every(OK)),
    Case(
        "login_eid",
        lambda b, w, r: (
            b.login_eid(EidLogin(license_id=w["cap-A1-admin"])).token.customer_id == w["A-One"]
        ),
        every(OK),
        seen=dict.fromkeys(ROLES, True),
    ),
    Case(
        "login_eid (another partner's customer)",
        lambda b, w, r: b.login_eid(EidLogin(license_id=w["cap-B1"])).token.role.value,
        every(OK),  # the License ID is the proof; who asks does not matter
    ),
    Case(
        "login_eid (partner inventory)",
        lambda b, w, r: b.login_eid(EidLogin(license_id=w["inv-A-admin"])),
        every(5),
    ),
    Case(
        "report_renewals",
        lambda b, w, r: b.report_renewals(RenewalsQuery(within_days=400)).rows,
        every(OK),
        seen=dict.fromkeys(ROLES, []),  # no maintenance is activated in this world
    ),
    Case(
        "report_coverage",
        lambda b, w, r: {row.install_code for row in b.report_coverage(CoverageQuery()).rows},
        every(OK),
        seen={Role.ADMIN: {"SS-A1", "SS-B1"}, Role.PARTNER: {"SS-A1"}, Role.CUSTOMER: {"SS-A1"}},
    ),
    Case(
        "report_inventory",
        lambda b, w, r: (lambda t: (t.licenses, t.retired))(
            b.report_inventory(InventoryQuery()).total
        ),
        every(OK),
        seen={Role.ADMIN: (9, 5), Role.PARTNER: (7, 4), Role.CUSTOMER: (4, 0)},
    ),
    Case(
        "report_inventory (other partner)",
        lambda b, w, r: b.report_inventory(InventoryQuery(partner="Beta")),
        codes(0, 3, 3),
    ),
    Case(
        "report_activity",
        lambda b, w, r: sum(
            row.count
            for row in b.report_activity(ActivityQuery()).rows
            if row.action == "license.add"
        ),
        every(OK),
        # Beta's two purchases are the admin's to see; the customer sees none.
        seen={Role.ADMIN: 9, Role.PARTNER: 7, Role.CUSTOMER: 0},
    ),
    Case("keys_list", lambda b, w, r: b.keys_list(), every(OK)),
    Case("keys_public_pem", lambda b, w, r: b.keys_public_pem(), every(OK)),
    Case("keys_rotate", lambda b, w, r: b.keys_rotate(), codes(0, 5, 5)),
    Case("db_check", lambda b, w, r: b.db_check(), codes(0, 5, 5)),
    Case("db_upgrade", lambda b, w, r: b.db_upgrade(), codes(0, 5, 5)),
    Case(
        "db_backup",
        lambda b, w, r: b.db_backup(str(w.tmp / f"backup-{r}.db")),
        codes(0, 5, 5),  # a PostgreSQL store is backed up with pg_dump: exit 2 (below)
    ),
]


def admin_token(w: World) -> str:
    return str(w.backends[Role.ADMIN].token_create(TokenCreate(role=Role.ADMIN)).token.token_id)


def revoke_own(b: Any, w: World) -> Any:
    """Revoke a token of `b`'s own principal, acting through it (a logout)."""
    from licensectl.service import LocalBackend

    p = b.principal
    request = TokenCreate(
        role=p.role,
        partner="Acme" if p.role is Role.PARTNER else None,
        customer=p.customer_id,
    )
    tid = w.backends[Role.ADMIN].token_create(request).token.token_id
    through = LocalBackend(b.store, principal=p.model_copy(update={"token_id": tid}))
    return through.token_revoke(tid)


#: What each role must see of the licenses, by the world's keys.
LICENSE_VISIBILITY = {
    Role.ADMIN: ACME_LICENSES | {"inv-B", "cap-B1"},
    Role.PARTNER: ACME_LICENSES,
    Role.CUSTOMER: A1_LICENSES,
}


@pytest.mark.parametrize("case", CASES, ids=[c.op for c in CASES])
def test_scoping(case: Case, world: World) -> None:
    for role in ROLES:
        expected = case.expect[role]
        if case.op == "db_backup" and world.engine == "postgres" and role is Role.ADMIN:
            expected = 2
        code, got = outcome(lambda: case.call(world.backends[role], world, role))  # noqa: B023
        assert code == expected, (case.op, role.value, got)
        if code != OK:
            continue
        if case.seen is not None:
            assert got == case.seen[role], (case.op, role.value)
        elif case.op in ("license_list", "search_po", "export_licenses", "complete (licenses)"):
            # The partner inventory's retired originals are the partner's to see, not the
            # customer's.
            visible = ids_of(world, LICENSE_VISIBILITY[role], retired=role is not Role.CUSTOMER)
            assert got == visible, (case.op, role.value)


def test_not_found_looks_the_same_as_out_of_scope(world: World) -> None:
    """Out of scope and missing answer with the same words, so nothing leaks."""
    partner = world.backends[Role.PARTNER]
    _, hidden = outcome(lambda: partner.license_show(world["cap-B1"]))
    _, missing = outcome(lambda: partner.license_show("00000000-0000-4000-8000-000000000000"))
    assert hidden.replace(world["cap-B1"], "X") == missing.replace(
        "00000000-0000-4000-8000-000000000000", "X"
    )


def test_history_hides_what_a_customer_cannot_see(world: World) -> None:
    customer = world.backends[Role.CUSTOMER]
    history = customer.license_history(world["cap-A1-customer"])
    assert history.ancestors == []  # the original sat in the partner's inventory
    assert {e.action for e in history.events} == {"license.mint"}
    admin_view = world.backends[Role.ADMIN].license_history(world["cap-A1-customer"])
    assert len(admin_view.ancestors) == 1


def test_events_name_the_principal(world: World) -> None:
    partner = world.backends[Role.PARTNER]
    moved = partner.transfer(Transfer(license_id=world["inv-A-partner"], to="A-One"))
    events = world.backends[Role.ADMIN].license_history(world["inv-A-partner"]).events
    assert events[-1].action == "license.transfer" and events[-1].actor == "partner:acme-bot"
    assert moved.transferred.customer == "A-One"


def test_every_operation_of_the_protocol_has_a_case() -> None:
    operations = {
        name
        for name, member in inspect.getmembers(Backend)
        if not name.startswith("_") and callable(member)
    } - {"close"}
    covered = {case.op.split(" ")[0] for case in CASES}
    assert operations - covered == set()
    assert LicenseType.CAPACITY  # the world uses every license type the rules treat apart
