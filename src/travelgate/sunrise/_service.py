"""Sunrise in the gateway: a counterparty on no travel-rule network answers by email.

A withdrawal routed to a peer with an `email` and no endpoint gets a link row and outbox
rows of kind `email` in the transaction that records the decision to exchange. The
outbox worker hands them here: the link's token (or the one-time code) is minted at
delivery, only its keyed digest is stored, and the mail leaves over SMTP; a failure is
retried and, past the retry budget, dead-lettered like any delivery, which sends the hold
to a person. The page (`_pages`) calls `view`, `unlock` and `decide`; a decision moves the
hold through the same reply policy as a TRISA acceptance (`evaluate_reply`).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from travelgate import ivms101
from travelgate._pb.ivms101 import identity_pb2
from travelgate._pb.trisa.api.v1beta1 import api_pb2
from travelgate.errors import (
    EmailDisabledError,
    LinkGoneError,
    WrongCodeError,
)
from travelgate.service import HoldService, Recorder, parse_withdrawal
from travelgate.service._payloads import beneficiary_json, beneficiary_match, beneficiary_person
from travelgate.service._wallets import learn_destination
from travelgate.store import Hold, OutboxItem, Store, SunriseLink, Tx, now_text
from travelgate.sunrise._mail import Mailer
from travelgate.transfers import (
    DecisionCode,
    HoldState,
    Outcome,
    evaluate_reply,
    reply_deadline,
)
from travelgate.trisa import Directory, Peer, person_from_json

log = structlog.get_logger("travelgate.sunrise")

OUTBOX_KIND = "email"
LINK_MAIL = "link"
CODE_MAIL = "code"
LINK_LIFETIME = timedelta(days=14)
MAX_CODE_TRIES = 5
_WAITING = (HoldState.HELD.value, HoldState.AWAITING_REPLY.value)


@dataclass(frozen=True)
class LinkPage:
    """What the page shows: what the travel rule requires the beneficiary VASP to see."""

    link: SunriseLink
    needs_code: bool
    originator_name: str
    originator_accounts: tuple[str, ...]
    originator_address: str
    originating_vasp: str
    asset: str
    network: str
    amount: str
    destination: str
    beneficiary_name: str
    beneficiary_person: dict[str, Any] | None
    profile: str


def actor_of(peer: str) -> str:
    return f"sunrise:{peer}"


def _text_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SunriseService:
    def __init__(
        self,
        *,
        db: Store,
        holds: HoldService,
        recorder: Recorder,
        directory: Directory,
        mailer: Mailer | None,
        legal_name: str,
        ivms_profile: str,
    ) -> None:
        self.db = db
        self.holds = holds
        self.recorder = recorder
        self.directory = directory
        self.mailer = mailer
        self.legal_name = legal_name
        self.ivms_profile = ivms_profile
        self.public_url = ""  # where links point; set once the API listens

    @property
    def enabled(self) -> bool:
        return self.mailer is not None

    # -- starting: in the transaction that decides to exchange ------------------------------

    def start(self, tx: Tx, hold: Hold, peer: Peer, payload: api_pb2.Payload) -> Hold | None:
        """Record a link and queue its mail(s); None when this node sends no email."""
        if not self.enabled or not peer.email:
            return None
        identity = identity_pb2.IdentityPayload()
        payload.identity.Unpack(identity)
        link_id = str(uuid.uuid4())
        expires = datetime.now(UTC) + LINK_LIFETIME
        tx.void_sunrise_links(hold.id)  # a new link replaces any earlier one
        tx.insert_sunrise_link(
            link_id,
            hold_id=hold.id,
            peer=peer.name,
            email=peer.email,
            email_code=peer.email_code,
            identity=identity.SerializeToString(),
            expires_at=_text_time(expires),
        )
        mails = [LINK_MAIL, CODE_MAIL] if peer.email_code else [LINK_MAIL]
        for mail in mails:
            tx.enqueue(
                kind=OUTBOX_KIND,
                target=peer.email,
                body_kind="json",
                body=json.dumps({"link": link_id, "mail": mail}).encode(),
                stamp=now_text(),
                hold_id=hold.id,
                envelope_id=link_id,
                transfer_state=mail,
            )
        self.recorder.audit(
            tx,
            "system",
            "sunrise.link_created",
            f"hold:{hold.id}",
            link=link_id,
            peer=peer.name,
            email=peer.email,
            email_code=peer.email_code,
            expires_at=_text_time(expires),
        )
        return self.recorder.touch(tx, hold, envelope_id=link_id)

    def void(self, tx: Tx, hold: Hold, why: str) -> None:
        """The hold ended before the counterparty answered: its link stops working."""
        if tx.void_sunrise_links(hold.id):
            self.recorder.audit(tx, "system", "sunrise.link_void", f"hold:{hold.id}", reason=why)

    def no_exchange(self, tx: Tx, hold: Hold) -> str | None:
        """Why no new link can help a hold in review, or None when one can."""
        link = tx.sunrise_link_for_hold(hold.id)
        if link is not None and link.state == "accepted":
            return "the counterparty accepted by sunrise; its answer was short of what policy wants"
        peer = self.directory.get(hold.counterparty or "")
        if peer is None or peer.blocked or not peer.email:
            return f"no exchange possible: {hold.counterparty} is not a usable directory peer"
        mails = [
            item
            for item in tx.outbox_items(hold_id=hold.id)
            if item.kind == OUTBOX_KIND and item.state == "dead"
        ]
        if mails and link is not None and mails[0].envelope_id == link.id:
            return (
                f"no exchange possible: {peer.email} unreachable, the outbox gave up "
                f"({mails[0].last_error or 'delivery failed'})"
            )
        return None

    # -- delivery: the outbox worker's `email` rows ------------------------------------------

    async def deliver(self, item: OutboxItem) -> None:
        mailer = self.mailer
        if mailer is None:
            raise EmailDisabledError("email is not configured on this node ([email] smtp_host)")
        link_id = item.envelope_id or ""
        secret = secrets.token_urlsafe(32) if item.transfer_state == LINK_MAIL else _new_code()

        def mint(tx: Tx) -> tuple[SunriseLink, Hold] | None:
            # Checked in the transaction that mints: a cancel committed a moment earlier (by
            # this process or another) voids the link, and then no mail leaves.
            link, hold = tx.sunrise_link(link_id), tx.hold(item.hold_id or "")
            if (
                link is None
                or hold is None
                or link.state != "open"
                or link.expires_at <= now_text()
                or hold.state not in _WAITING
            ):
                tx.outbox_done(item.id, stamp=now_text())
                return None  # withdrawn, answered or expired before it left
            if item.transfer_state == LINK_MAIL:
                tx.update_sunrise_link(link_id, token_hash=_digest(tx, secret))
            else:
                tx.update_sunrise_link(
                    link_id, code_hash=_digest(tx, f"{link_id}:{secret}"), code_tries=0
                )
            return link, hold

        # The digest is stored before the mail leaves, so a link works as soon as it
        # arrives; a retry mints afresh and the earlier, undelivered token never works.
        minted = await self.db.write(mint)
        if minted is None:
            return
        link, hold = minted
        if item.transfer_state == LINK_MAIL:
            message = mailer.compose(item.target, *self._link_mail(link, hold, secret))
        else:
            message = mailer.compose(item.target, *self._code_mail(hold, secret))
        await mailer.send(message)

        def sent(tx: Tx) -> None:
            tx.outbox_done(item.id, stamp=now_text())
            current = tx.hold(hold.id)
            self.recorder.audit(
                tx,
                "system",
                "sunrise.emailed",
                f"hold:{hold.id}",
                link=link_id,
                mail=item.transfer_state,
                to=item.target,
            )
            if item.transfer_state == LINK_MAIL and current is not None:
                self._start_waiting(tx, current, f"sunrise link emailed to {item.target}")

        await self.db.write(sent)

    def _start_waiting(self, tx: Tx, hold: Hold, reason: str) -> Hold:
        if hold.state != HoldState.HELD.value:
            return hold
        _facts, decision = self.holds.facts_of(hold, None)
        now = datetime.now(UTC)
        hold = self.recorder.touch(
            tx,
            hold,
            started_at=_text_time(now),
            deadline=_text_time(reply_deadline(now, decision.reply_timeout)),
        )
        return self.recorder.move(
            tx,
            hold,
            HoldState.AWAITING_REPLY,
            actor="system",
            code=DecisionCode.EXCHANGE_DELIVERED,
            rule="outbox",
            reason=reason,
        )

    def _link_mail(self, link: SunriseLink, hold: Hold, token: str) -> tuple[str, str]:
        url = f"{self.public_url}/sunrise/{token}"
        code = (
            "\nA one-time code comes in a separate email: the page asks for it.\n"
            if link.email_code
            else ""
        )
        subject = f"Travel rule: {self.legal_name} asks you to confirm a transfer to your customer"
        text = (
            f"{self.legal_name} is about to send {hold.amount} {hold.asset} to an address "
            f"that we understand belongs to a customer of {link.peer}.\n\n"
            "The travel rule (FATF Recommendation 16, EU Regulation 2023/1113) requires the "
            "originator's and the beneficiary's information to travel with the transfer. "
            "Neither your organisation nor ours shares a travel-rule network, so we ask you "
            "to review the transfer and accept or reject it on this page:\n\n"
            f"    {url}\n\n"
            f"The link works until {link.expires_at[:16].replace('T', ' ')} UTC and takes "
            "one decision. It is personal to your compliance team: do not forward it.\n"
            f"{code}\n"
            "This email contains no personal data; the page shows it. If you did not expect "
            "it, you can reject the transfer on the page.\n"
        )
        return subject, text

    def _code_mail(self, hold: Hold, code: str) -> tuple[str, str]:
        subject = f"Travel rule: your one-time code for the transfer from {self.legal_name}"
        text = (
            f"Your one-time code is {code}\n\n"
            f"Enter it on the page linked in the other email from {self.legal_name} about "
            f"the transfer of {hold.amount} {hold.asset}. After {MAX_CODE_TRIES} wrong codes "
            "the link locks.\n"
        )
        return subject, text

    # -- the page ------------------------------------------------------------------------------

    async def view(self, token: str, unlock: str | None) -> LinkPage:
        """The page of a link (LinkGoneError when it cannot be used); every view is audited."""

        def read(tx: Tx) -> LinkPage:
            link, hold = self._usable(tx, token)
            unlocked = self._unlocked(tx, link, unlock)
            page = self._page(link, hold, needs_code=not unlocked)
            self.recorder.audit(
                tx,
                actor_of(link.peer),
                "sunrise.viewed" if unlocked else "sunrise.code_asked",
                f"hold:{hold.id}",
                link=link.id,
            )
            if unlocked and link.viewed_at is None:
                tx.update_sunrise_link(link.id, viewed_at=now_text())
            return page

        return await self.db.write(read)

    async def unlock(self, token: str, code: str) -> str:
        """Check the one-time code; the value of the cookie that unlocks the page."""
        cookie = secrets.token_urlsafe(32)

        def write(tx: Tx) -> str | int:
            link, hold = self._usable(tx, token)
            subject = f"hold:{hold.id}"
            right = link.code_hash is not None and secrets.compare_digest(
                _digest(tx, f"{link.id}:{code.strip()}"), link.code_hash
            )
            if right:
                tx.update_sunrise_link(link.id, unlock_hash=_digest(tx, cookie))
                self.recorder.audit(
                    tx, actor_of(link.peer), "sunrise.code_accepted", subject, link=link.id
                )
                return cookie
            tries = link.code_tries + 1
            locked = tries >= MAX_CODE_TRIES
            tx.update_sunrise_link(
                link.id, code_tries=tries, **({"state": "locked"} if locked else {})
            )
            self.recorder.audit(
                tx,
                actor_of(link.peer),
                "sunrise.code_refused",
                subject,
                link=link.id,
                tries=tries,
                locked=locked,
            )
            return MAX_CODE_TRIES - tries

        result = await self.db.write(write)
        if isinstance(result, int):
            if result <= 0:
                raise _locked()
            raise WrongCodeError(result)
        return result

    async def decide(
        self,
        token: str,
        unlock: str | None,
        *,
        accept: bool,
        person: dict[str, Any] | None = None,
        reason: str = "",
    ) -> Hold:
        """The counterparty's decision: accept (with the beneficiary it confirmed) or
        reject (with its reason). Single use: the link is spent in the same transaction."""

        def write(tx: Tx) -> Hold:
            link, hold = self._usable(tx, token)
            if not self._unlocked(tx, link, unlock):
                raise LinkGoneError(
                    403, "Code required", "enter the one-time code emailed to you first"
                )
            actor = actor_of(link.peer)
            hold = self._start_waiting(tx, hold, f"sunrise link opened by {link.peer}")
            if not tx.spend_sunrise_link(link.id, "accepted" if accept else "rejected"):
                raise LinkGoneError(
                    410, "Already answered", "this transfer was already answered with this link."
                )
            if accept:
                assert person is not None
                moved = self._accept(tx, link, hold, person, actor)
            else:
                moved = self.recorder.move(
                    tx,
                    hold,
                    HoldState.REJECTED,
                    actor=actor,
                    code=DecisionCode.REPLY_REJECTED,
                    rule="reply:sunrise-rejected",
                    reason=(reason or "the beneficiary VASP rejected the transfer")[:1000],
                )
            self.recorder.audit(
                tx,
                actor,
                "sunrise.accepted" if accept else "sunrise.rejected",
                f"hold:{hold.id}",
                link=link.id,
                state=moved.state,
            )
            return moved

        return await self.db.write(write)

    def _accept(
        self, tx: Tx, link: SunriseLink, hold: Hold, person: dict[str, Any], actor: str
    ) -> Hold:
        identity = identity_pb2.IdentityPayload()
        identity.ParseFromString(link.identity)
        del identity.beneficiary.beneficiary_persons[:]
        identity.beneficiary.beneficiary_persons.add().CopyFrom(person_from_json(person))
        facts, decision = self.holds.facts_of(hold, identity)
        verdict = evaluate_reply(
            facts, self.holds.policy, decision, Outcome.ACCEPTED, identity=identity
        )
        request = parse_withdrawal(hold.request, assets=frozenset({hold.asset}))
        returned: dict[str, Any] = {
            "beneficiary_identity": beneficiary_json(identity.beneficiary),
            "beneficiary_match": beneficiary_match(
                beneficiary_person(request), list(identity.beneficiary.beneficiary_persons)
            ),
        }
        target = verdict.target or HoldState.REVIEW
        reason = "the beneficiary VASP accepted by sunrise (emailed link)"
        if target is not HoldState.CLEARED:
            missing = ", ".join(verdict.missing[:10]) if verdict.missing else ""
            reason = f"{verdict.reason}: {missing or reason} (answered by sunrise)"
        moved = self.recorder.move(
            tx,
            hold,
            target,
            actor=actor,
            code=_code_of(verdict.reason),
            rule="reply:sunrise-accepted",
            reason=reason[:1000],
            **returned,
        )
        if moved.state == HoldState.CLEARED.value:
            beneficiary = moved.request.get("beneficiary") or {}
            learn_destination(tx, moved, beneficiary.get("name"))
        return moved

    def _usable(self, tx: Tx, token: str) -> tuple[SunriseLink, Hold]:
        link = tx.sunrise_link_by_token(_digest(tx, token)) if 20 <= len(token) <= 100 else None
        if link is None:
            raise LinkGoneError(
                404,
                "Link not found",
                "this link is not valid. Check that it was copied whole from the email.",
            )
        hold = tx.hold(link.hold_id)
        if link.state in ("accepted", "rejected"):
            raise LinkGoneError(
                410, "Already answered", f"this transfer was already {link.state} with this link."
            )
        if link.state == "locked":
            raise _locked()
        if link.state == "void" or hold is None:
            raise LinkGoneError(
                410,
                "Link withdrawn",
                "the originator withdrew this request (the transfer was canceled or decided "
                "otherwise). Nothing more is needed from you.",
            )
        if link.expires_at <= now_text():
            raise LinkGoneError(
                410,
                "Link expired",
                "this link has expired. Contact the originator if the transfer is still due.",
            )
        if hold.state not in _WAITING:
            raise LinkGoneError(
                410,
                "No longer waiting",
                f"the transfer is no longer waiting for your answer (it is {hold.state}).",
            )
        return link, hold

    def _unlocked(self, tx: Tx, link: SunriseLink, unlock: str | None) -> bool:
        if not link.email_code:
            return True
        return bool(
            unlock
            and link.unlock_hash is not None
            and secrets.compare_digest(_digest(tx, unlock), link.unlock_hash)
        )

    def _page(self, link: SunriseLink, hold: Hold, *, needs_code: bool) -> LinkPage:
        identity = identity_pb2.IdentityPayload()
        identity.ParseFromString(link.identity)
        originators = [
            ivms101.person_from_protobuf(p) for p in identity.originator.originator_persons
        ]
        vasp = ivms101.person_from_protobuf(identity.originating_vasp.originating_vasp)
        request = hold.request
        beneficiary = request.get("beneficiary") or {}
        sent_person = beneficiary.get("person")
        sent_name = beneficiary.get("name") or (person_name(sent_person) if sent_person else "")
        peer = self.directory.get(link.peer)
        return LinkPage(
            link=link,
            needs_code=needs_code,
            originator_name="; ".join(person_name(p) for p in originators),
            originator_accounts=tuple(identity.originator.account_numbers),
            originator_address=next((a for a in (person_address(p) for p in originators) if a), ""),
            originating_vasp=person_name(vasp),
            asset=hold.asset,
            network=hold.network,
            amount=hold.amount,
            destination=hold.destination,
            beneficiary_name=sent_name,
            beneficiary_person=dict(sent_person) if isinstance(sent_person, dict) else None,
            profile=(peer.ivms_profile if peer and peer.ivms_profile else self.ivms_profile),
        )


def person_name(person: Any) -> str:
    """A Person's legal name as a person reads it (given names first)."""
    if not isinstance(person, dict):
        return ""
    if "legalPerson" in person:
        names = person["legalPerson"].get("name", {}).get("nameIdentifier", [])
        return str(names[0].get("legalPersonName", "")) if names else ""
    natural = person.get("naturalPerson") or {}
    names = natural.get("name", {}).get("nameIdentifier", [])
    if not names:
        return ""
    first = names[0]
    return " ".join(
        part for part in (first.get("secondaryIdentifier"), first.get("primaryIdentifier")) if part
    )


def person_address(person: Any) -> str:
    if not isinstance(person, dict):
        return ""
    body = person.get("naturalPerson") or person.get("legalPerson") or {}
    addresses = body.get("geographicAddress") or []
    if not addresses:
        return ""
    first = addresses[0]
    lines = list(first.get("addressLine") or [])
    street = " ".join(str(first.get(k, "")) for k in ("buildingNumber", "streetName")).strip()
    town = " ".join(str(first.get(k, "")) for k in ("postCode", "townName")).strip()
    parts = [*lines, street, town, str(first.get("country", ""))]
    return ", ".join(part for part in parts if part)


def _digest(tx: Tx, secret: str) -> str:
    return tx.sealer.digest(b"sunrise\x00" + secret.encode("utf-8"))


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _locked() -> LinkGoneError:
    return LinkGoneError(
        410,
        "Link locked",
        "too many wrong codes were entered: this link is locked. Contact the originator.",
    )


def _code_of(reason: str) -> DecisionCode:
    try:
        return DecisionCode(reason)
    except ValueError:
        return DecisionCode.REPLY_INVALID
