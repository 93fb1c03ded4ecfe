"""Activations online and offline, returns, and the SmartServer view: rules 4–8 of docs/domain.md.

Every change holds the license rows it checks (SQLite: the write transaction's
`BEGIN IMMEDIATE`; PostgreSQL: `SELECT … FOR UPDATE`, taken in License ID order and
always before the SmartServer's row, so two writers never wait on each other in a
circle). Free copies are therefore checked and consumed by one writer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from licensectl import domain
from licensectl.contract.models import ActivationPublic, SmartServerPublic, format_utc
from licensectl.contract.requests import Activate, Return
from licensectl.domain import ActivationMode, utcnow
from licensectl.errors import ConflictError, InvalidDataError, NotFoundError, UsageError
from licensectl.models import (
    Activation,
    Customer,
    License,
    OfflineRequest,
    SmartServer,
)
from licensectl.service.admin import AdminOps
from licensectl.service.base import license_state
from licensectl.service.convert import activation_public
from licensectl.service.lookup import Lookups, scoped_licenses


@dataclass
class _Change:
    """One license line applied to one SmartServer."""

    lic: License
    row: Activation | None
    held: int
    wanted: int


class ActivationOps(Lookups, AdminOps):
    """Activate, return, answer offline requests, show a SmartServer."""

    # --- online ---------------------------------------------------------------

    def activate(self, request: Activate) -> ActivationPublic:
        """Make the SmartServer hold `copies` of the license (rule 8: 0 returns them).

        Holding what it holds already changes nothing and records no event.
        """
        code = domain.clean_install_code(request.install_code)
        wanted = domain.check_copies(request.copies)
        name = request.name
        clean = domain.clean_name(name, what="SmartServer name") if name is not None else None
        mode = ActivationMode.ONLINE
        with self._write() as s:
            lic = self._license(s, request.license_id, lock=True)
            server = self._smartserver(s, code, lock=True, given=request.install_code)
            change = self._plan(s, lic, server, code, wanted)
            domain.check_activation_grant(
                self.principal.role,
                license_id=lic.license_id,
                type=lic.type,
                held=change.held,
                wanted=change.wanted,
                mode=mode,
            )
            server = self._named(s, server, code, clean, needed=change.wanted > change.held)
            now = utcnow()
            row = self._apply(s, change, server, mode=mode, now=now)
            return self._change_public(change, row, code, mode=mode, now=now)

    def return_license(self, request: Return) -> ActivationPublic:
        """Free every copy the SmartServer holds; returning nothing held is no change."""
        return self.activate(
            Activate(license_id=request.license_id, install_code=request.install_code, copies=0)
        )

    # --- offline --------------------------------------------------------------

    def activate_offline(self, request_bytes: bytes) -> bytes:
        """Answer an activation request file with the signed response file's bytes.

        All lines are granted or none (any broken rule raises and nothing is written).
        The same request again returns the stored bytes unchanged and consumes nothing;
        its nonce reused with other content is refused.
        """
        from licensectl import activation as files  # only offline: the file formats

        request = files.parse_request(request_bytes)
        digest = files.request_digest(request)
        try:
            # Stored and looked up in canonical form; the response echoes the request's
            # own spelling, which its digest and the device's check are over.
            code = domain.clean_install_code(request.install_code)
        except UsageError as exc:
            raise InvalidDataError(f"activation request: install_code: {exc.message}") from None
        with self._write() as s:
            answered = self._answered(s, code, request.nonce, digest, given=request.install_code)
            if answered is not None:
                return answered
            licenses = {
                lid: self._license(s, lid, lock=True)
                for lid in sorted(line.license_id for line in request.licenses)
            }
            # PostgreSQL: a twin of this request may have committed while we waited.
            answered = self._answered(s, code, request.nonce, digest, given=request.install_code)
            if answered is not None:
                return answered
            server = self._smartserver(s, code, lock=True, given=request.install_code)
            changes = []
            for line in request.licenses:
                change = self._plan(s, licenses[line.license_id], server, code, line.copies)
                domain.check_activation_grant(
                    self.principal.role,
                    license_id=line.license_id,
                    type=change.lic.type,
                    held=change.held,
                    wanted=change.wanted,
                    mode=ActivationMode.OFFLINE,
                )
                changes.append(change)
            needed = any(c.wanted > c.held for c in changes)
            server = self._named(s, server, code, request.name, needed=needed)
            now = utcnow()
            granted = []
            for change in changes:
                row = self._apply(
                    s, change, server, mode=ActivationMode.OFFLINE, now=now, nonce=request.nonce
                )
                granted.append(self._granted(change.lic, change.wanted, row))
            # The response states the SmartServer's real totals, whoever asked.
            totals = self._coverage(s, server, now=now, scoped=False)
            if max(totals.capacity, totals.maintenance_devices) > files.MAX_INT:
                raise ConflictError(
                    f"{code}'s totals are too large for an activation response; nothing was changed"
                )
            key = self.key_store.active()
            response = files.sign_response(
                files.response_payload(
                    request,
                    licenses=granted,
                    capacity=totals.capacity,
                    maintenance_devices=totals.maintenance_devices,
                    covered=totals.covered,
                    issued_at=now,
                ),
                key_id=key.key_id,
                private_key=key.private_key,
            )
            data = files.dump_file(response)
            s.add(
                OfflineRequest(
                    install_code=code,
                    nonce=request.nonce,
                    request_digest=digest,
                    key_id=key.key_id,
                    response=data,
                    actor=self.principal.actor,
                    created_at=now,
                )
            )
            self._event(
                s,
                "smartserver.offline-response",
                install_code=code,
                nonce=request.nonce,
                request_digest=digest,
                key_id=key.key_id,
                licenses=[{"license_id": g["license_id"], "copies": g["copies"]} for g in granted],
                capacity=totals.capacity,
                maintenance_devices=totals.maintenance_devices,
                covered=totals.covered,
            )
            return data

    def _answered(
        self, s: Session, code: str, nonce: str, digest: str, *, given: str
    ) -> bytes | None:
        """The stored response to this very request, if it was answered before.

        Recorded under the canonical code; a store from before install codes were
        canonical recorded the code as the request spelled it (`given`).
        """
        stored = s.exec(
            select(OfflineRequest).where(
                col(OfflineRequest.install_code).in_({code, given}), OfflineRequest.nonce == nonce
            )
        ).first()
        if stored is None:
            return None
        if stored.request_digest != digest:
            raise ConflictError(
                f"nonce {nonce} of install code {code} was already used by a different "
                "request; make a new request on the SmartServer"
            )
        return bytes(stored.response)

    @staticmethod
    def _granted(lic: License, copies: int, row: Activation | None) -> dict[str, Any]:
        expires = row.maintenance_expires if row is not None and copies > 0 else None
        return {
            "license_id": lic.license_id,
            "type": lic.type.value,
            "devices": lic.devices,
            "copies": copies,
            "term_months": lic.term_months,
            "maintenance_expires": format_utc(expires) if expires else None,
        }

    # --- the SmartServer ---------------------------------------------------------

    def smartserver_show(self, install_code: str) -> SmartServerPublic:
        code = domain.clean_install_code(install_code)
        with self._read() as s:
            server = self._smartserver(s, code, given=install_code)
            held = self._held(s, server) if server is not None else []
            if server is None or (not self._scope_of(s).unlimited and not held):
                # A partner or customer sees a SmartServer through its own licenses only.
                raise NotFoundError(f"no SmartServer with install code {code!r}")
            now = utcnow()
            totals = self._coverage(s, server, now=now)
            return SmartServerPublic(
                install_code=server.install_code,
                name=server.name,
                capacity=totals.capacity,
                maintenance_devices=totals.maintenance_devices,
                covered=totals.covered,
                maintenance_status=totals.maintenance_status,
                created_at=server.created_at,
                activations=[
                    activation_public(a, lic, server.install_code, now=now) for a, lic in held
                ],
            )

    def _held(
        self, s: Session, server: SmartServer, *, scoped: bool = True
    ) -> Sequence[tuple[Activation, License]]:
        """What the SmartServer holds: of the licenses the principal can see, or all."""
        stmt = (
            select(Activation, License)
            .join(License, col(License.seq) == Activation.license_seq)
            .where(Activation.smartserver_id == server.id, Activation.copies > 0)
            .order_by(col(Activation.id))
        )
        return s.exec(scoped_licenses(stmt, self._scope_of(s)) if scoped else stmt).all()

    def _coverage(
        self, s: Session, server: SmartServer | None, *, now: datetime, scoped: bool = True
    ) -> domain.Coverage:
        held = self._held(s, server, scoped=scoped) if server is not None else []
        return domain.coverage(
            (
                domain.Holding(
                    type=lic.type,
                    devices=lic.devices,
                    copies=a.copies,
                    maintenance_expires=a.maintenance_expires,
                )
                for a, lic in held
            ),
            now=now,
        )

    def _smartserver(
        self, s: Session, code: str, *, lock: bool = False, given: str | None = None
    ) -> SmartServer | None:
        """The SmartServer whose install code is `code` (canonical), in any case.

        Stores written before install codes were canonical may hold a code in another
        case, even one device under two spellings. Such a row is still found: first by
        the exact spelling `given` (so each of two spellings stays reachable), then
        canonically, then in any case; two or more other spellings are ambiguous.
        """

        def query(condition: Any) -> Sequence[SmartServer]:
            stmt = select(SmartServer).where(condition).order_by(col(SmartServer.id))
            if lock:
                # PostgreSQL: one writer at a time per SmartServer, so the totals a
                # response reports are the SmartServer's real totals once it commits.
                stmt = stmt.with_for_update()
            return s.exec(stmt).all()

        spelled = " ".join(given.split()) if given is not None else code
        for exact in dict.fromkeys((spelled, code)):
            found = query(SmartServer.install_code == exact)
            if found:
                return found[0]
        # Legacy rows only: a scan, paid when a code is not in the store canonically.
        legacy = [
            row
            for row in query(func.upper(SmartServer.install_code) == code)
            if domain.install_code_key(row.install_code) == code
        ]
        if len(legacy) > 1:
            spellings = ", ".join(repr(row.install_code) for row in legacy)
            raise InvalidDataError(
                f"install code {code} matches {len(legacy)} SmartServers recorded in different "
                f"case ({spellings}) before install codes compared case-insensitively: give "
                "one of these spellings exactly; 'licensectl db check' reports them"
            )
        return legacy[0] if legacy else None

    def _named(
        self, s: Session, server: SmartServer | None, code: str, name: str | None, *, needed: bool
    ) -> SmartServer | None:
        """The SmartServer, created on its first activation, with the name last given."""
        if server is None:
            return self._new_smartserver(s, code, name) if needed else None
        if name is not None:
            self._rename(s, server, name)
        return server

    def _new_smartserver(self, s: Session, code: str, name: str | None) -> SmartServer:
        """A SmartServer is created on its first activation."""
        server = SmartServer(install_code=code, name=name)
        try:
            with s.begin_nested():
                s.add(server)
        except IntegrityError:
            # Another writer created it since we looked (PostgreSQL): use theirs.
            found = self._smartserver(s, code, lock=True)
            assert found is not None, "a unique violation means the row exists"
            if name is not None:
                self._rename(s, found, name)
            return found
        self._event(s, "smartserver.add", install_code=code, name=name)
        return server

    def _rename(self, s: Session, server: SmartServer, name: str) -> None:
        if server.name == name:
            return
        self._event(
            s, "smartserver.rename", install_code=server.install_code, old=server.name, new=name
        )
        server.name = name
        s.add(server)

    # --- one license on one SmartServer -----------------------------------------------

    def _plan(
        self, s: Session, lic: License, server: SmartServer | None, code: str, wanted: int
    ) -> _Change:
        row = (
            s.exec(
                select(Activation).where(
                    Activation.license_seq == lic.seq, Activation.smartserver_id == server.id
                )
            ).first()
            if server is not None
            else None
        )
        held = row.copies if row is not None else 0
        domain.plan_activation(
            license_state(lic),
            install_code=code,
            held=held,
            wanted=wanted,
        )
        return _Change(lic=lic, row=row, held=held, wanted=wanted)

    def _apply(
        self,
        s: Session,
        change: _Change,
        server: SmartServer | None,
        *,
        mode: ActivationMode,
        now: datetime,
        nonce: str | None = None,
    ) -> Activation | None:
        """Write one planned change with its event; no change writes nothing."""
        lic, row, held, wanted = change.lic, change.row, change.held, change.wanted
        if wanted == held:
            return row
        assert server is not None and server.id is not None and lic.seq is not None
        if row is None:
            row = Activation(license_seq=lic.seq, smartserver_id=server.id, copies=0, mode=mode)
        if held == 0:
            # A new activation (or one after a return): its date is today, its
            # maintenance the license's fixed term.
            row.activated_at = now
            row.maintenance_expires = domain.activation_expiry(
                type=lic.type,
                term_months=lic.term_months,
                activated_at=now,
                fixed_expiry=self._fixed_expiry(s, lic),
            )
        row.copies = wanted
        row.mode = mode
        row.updated_at = now
        s.add(row)
        lic.active_copies += wanted - held
        lic.status = domain.license_status(transferred=False, active_copies=lic.active_copies)
        s.add(lic)
        s.flush()
        customer = s.get(Customer, lic.customer_pk) if lic.customer_pk is not None else None
        details: dict[str, Any] = {
            "install_code": server.install_code,
            "copies": wanted,
            "previous": held,
            "mode": mode.value,
        }
        if nonce is not None:
            details["nonce"] = nonce
        if wanted > held and row.maintenance_expires is not None:
            details["maintenance_expires"] = format_utc(row.maintenance_expires)
        self._event(
            s,
            "license.activate" if wanted > held else "license.return",
            license_id=lic.license_id,
            customer_id=customer.customer_id if customer else None,
            partner_id=lic.partner_id,
            **details,
        )
        return row

    def _fixed_expiry(self, s: Session, lic: License) -> datetime | None:
        """The expiry set by the first activation of this license or an ancestor, if any."""
        if lic.type is not domain.LicenseType.MAINTENANCE:
            return None
        seqs: list[int] = []
        current: License | None = lic
        while current is not None:
            assert current.seq is not None
            seqs.append(current.seq)
            parent = current.parent_id
            current = (
                s.exec(select(License).where(License.license_id == parent)).first()
                if parent is not None
                else None
            )
        found: datetime | None = s.exec(
            select(func.min(Activation.maintenance_expires)).where(
                col(Activation.license_seq).in_(seqs),
                col(Activation.maintenance_expires).is_not(None),
            )
        ).first()
        return found

    def _change_public(
        self,
        change: _Change,
        row: Activation | None,
        code: str,
        *,
        mode: ActivationMode,
        now: datetime,
    ) -> ActivationPublic:
        if row is not None:
            return activation_public(row, change.lic, code, now=now)
        # Nothing held, nothing asked for: the SmartServer never held this license.
        return ActivationPublic(
            license_id=change.lic.license_id,
            install_code=code,
            copies=0,
            mode=mode,
            activated_at=None,
            maintenance_expires=None,
            maintenance_status=None,
            type=change.lic.type,
            devices=change.lic.devices,
        )
