"""Sunrise end to end: a counterparty on no travel-rule network answers by an emailed link.

A real node (in-process, real API listener on port 0), a real SMTP server on loopback
(aiosmtpd), the link read from the received message and the page driven over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.api import Api
from support.backoffice import BackOffice
from support.nodes import ALICE, Cluster
from support.smtp import MailServer
from support.stores import beside
from support.sunrise import (
    CAROL,
    CAROL_EMAIL,
    GOOD_BENEFICIARY,
    Visitor,
    alice_with_email,
    to_carol,
)
from travelgate.errors import ConfigError
from travelgate.store import Tx


@pytest.fixture
async def mail() -> AsyncIterator[MailServer]:
    server = MailServer()
    await server.start()
    yield server
    await server.stop()


async def _start(cluster: Cluster, tmp_path: Path, port: int, **options: Any) -> Api:
    await cluster.start(alice_with_email(tmp_path, port, **options))
    return await Api.connect(cluster.nodes[ALICE])


async def _audit(cluster: Cluster, hold_id: str) -> list[tuple[str, str]]:
    db = cluster.nodes[ALICE].gateway.db

    def read(tx: Tx) -> list[tuple[str, str]]:
        return [(r.actor, r.action) for r in tx.audit_records(subjects=(f"hold:{hold_id}",))]

    return await db.read(read)


async def test_link_emailed_once_accept_clears_and_the_link_is_spent(
    cluster: Cluster, mail: MailServer, tmp_path: Path
) -> None:
    office = BackOffice()
    await office.start()
    api = await _start(cluster, tmp_path, mail.port, webhook_url=office.url)
    visitor: Visitor | None = None
    try:
        status, hold = await api.create(to_carol())
        assert status == 201, hold
        assert hold["counterparty"] == {"kind": "vasp", "name": CAROL, "protocol": "email"}
        waiting = await api.wait_state(hold["id"], "awaiting_reply")
        assert waiting["decision"]["code"] == "EXCHANGE.DELIVERED"
        (message,) = await mail.wait_for(1)
        assert message["To"] == CAROL_EMAIL
        assert message["From"] == "travel-rule@alice.example"
        url, token = mail.link(message)
        assert "Smith" not in mail.text(message)  # no personal data in the mail itself

        # Only a keyed digest of the token is stored, never the token.
        db = cluster.nodes[ALICE].gateway.db
        dump = beside(db.where, "SELECT * FROM sunrise_links")
        assert all(token not in str(tuple(row)) for row in dump)

        visitor = Visitor(url + "?utm_source=mail")  # what mail systems append is ignored
        status, page, headers = await visitor.open()
        assert status == 200
        visitor.url = url
        for shown in ("Alice Smith", "0.5 BTC", "Alice VASP Ltd", "Carl Brown", "cust-1"):
            assert shown in page
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "script" not in policy
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"
        assert "<script" not in page

        status, page = await visitor.post({**GOOD_BENEFICIARY, "decision": "accept"})
        assert status == 200, page
        assert "Transfer accepted" in page
        cleared = await api.wait_state(hold["id"], "cleared")
        assert cleared["decision"]["code"] == "REPLY.ACCEPTED"
        assert cleared["decision"]["rule"] == "reply:sunrise-accepted"
        assert "sunrise" in cleared["decision"]["reason"]
        persons = cleared["beneficiary_identity"]["beneficiaryPersons"]
        assert persons[0]["naturalPerson"]["name"]["nameIdentifier"][0]["primaryIdentifier"] == (
            "Brown"
        )
        assert cleared["beneficiary_match"] == "exact"  # "Carl Brown" as sent

        status, page = await visitor.post({**GOOD_BENEFICIARY, "decision": "accept"})
        assert status == 410
        assert "Already answered" in page
        status, page, _headers = await visitor.open()
        assert status == 410

        trail = await _audit(cluster, hold["id"])
        actor = f"sunrise:{CAROL}"
        assert (actor, "sunrise.viewed") in trail
        assert (actor, "sunrise.accepted") in trail
        assert (actor, "hold.state") in trail
        assert ("system", "sunrise.emailed") in trail

        event = await office.wait_for("withdrawal.cleared")
        assert event["data"]["id"] == hold["id"]
        assert "withdrawal.awaiting_reply" in [e["type"] for e in office.events()]

        # A restart sends nothing again.
        await cluster.restart(ALICE)
        node = cluster.nodes[ALICE]
        assert node.outbox is not None
        await node.outbox.drain(2)
        assert len(mail.messages) == 1
    finally:
        if visitor is not None:
            await visitor.close()
        await api.close()
        await office.stop()


async def test_reject_rejects_with_the_reason(
    cluster: Cluster, mail: MailServer, tmp_path: Path
) -> None:
    api = await _start(cluster, tmp_path, mail.port)
    _status, hold = await api.create(to_carol())
    (message,) = await mail.wait_for(1)
    visitor = Visitor(mail.link(message)[0])
    try:
        await visitor.open()
        status, page = await visitor.post({"decision": "reject", "reason": "  "})
        assert status == 422
        assert "say why you reject" in page
        # Two decisions at once (a double click): exactly one counts, the other is told.
        first, second = await asyncio.gather(
            visitor.post({"decision": "reject", "reason": "no such customer at this address"}),
            visitor.post({"decision": "reject", "reason": "no such customer at this address"}),
        )
        assert sorted([first[0], second[0]]) == [200, 410]
        status, page = first if first[0] == 200 else second
        assert status == 200
        assert "Transfer rejected" in page
        rejected = await api.wait_state(hold["id"], "rejected")
        assert rejected["decision"]["code"] == "REPLY.REJECTED"
        assert rejected["decision"]["rule"] == "reply:sunrise-rejected"
        assert rejected["decision"]["reason"] == "no such customer at this address"
        assert (f"sunrise:{CAROL}", "sunrise.rejected") in await _audit(cluster, hold["id"])
    finally:
        await visitor.close()
        await api.close()


async def test_bad_ivms101_input_shows_errors_by_field_and_changes_nothing(
    cluster: Cluster, mail: MailServer, tmp_path: Path
) -> None:
    api = await _start(cluster, tmp_path, mail.port)
    _status, hold = await api.create(to_carol())
    (message,) = await mail.wait_for(1)
    visitor = Visitor(mail.link(message)[0])
    try:
        await visitor.open()
        before = await api.wait_state(hold["id"], "awaiting_reply")
        bad = {
            **GOOD_BENEFICIARY,
            "family_name": "",
            "address_country": "ZZ",
            "date_of_birth": "1990-02-31",
            "decision": "accept",
        }
        status, page = await visitor.post(bad)
        assert status == 422
        assert 'id="family_name-error"' in page
        assert 'id="address_country-error"' in page
        assert 'id="date_of_birth-error"' in page
        assert "nothing was recorded" in page
        assert 'value="ZZ"' in page  # what they typed is kept
        _status, after = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
        assert after["state"] == "awaiting_reply"
        assert after["version"] == before["version"]
        # The link still takes its one decision.
        status, page = await visitor.post({**GOOD_BENEFICIARY, "decision": "accept"})
        assert status == 200, page
        await api.wait_state(hold["id"], "cleared")
    finally:
        await visitor.close()
        await api.close()


async def test_a_post_without_the_csrf_token_is_refused(
    cluster: Cluster, mail: MailServer, tmp_path: Path
) -> None:
    api = await _start(cluster, tmp_path, mail.port)
    _status, hold = await api.create(to_carol())
    (message,) = await mail.wait_for(1)
    visitor = Visitor(mail.link(message)[0])
    try:
        await api.wait_state(hold["id"], "awaiting_reply")
        await visitor.open()
        status, page = await visitor.post({"decision": "reject", "reason": "x"}, csrf=False)
        assert status == 403
        assert "could not be verified" in page
        _status, current = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
        assert current["state"] == "awaiting_reply"
    finally:
        await visitor.close()
        await api.close()


async def test_unknown_expired_and_canceled_links_get_a_clear_page(
    cluster: Cluster, mail: MailServer, tmp_path: Path
) -> None:
    api = await _start(cluster, tmp_path, mail.port)
    base = f"http://127.0.0.1:{cluster.nodes[ALICE].api_port}/sunrise/"
    unknown = Visitor(base + "A" * 43)
    try:
        status, page, _ = await unknown.open()
        assert status == 404
        assert "Link not found" in page
        assert "Traceback" not in page
    finally:
        await unknown.close()

    _status, first = await api.create(to_carol())
    _status, second = await api.create(to_carol())
    await mail.wait_for(2)
    links = [mail.link(message)[0] for message in mail.messages]
    db = cluster.nodes[ALICE].gateway.db

    beside(
        db.where,
        "UPDATE sunrise_links SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE hold_id = ?",
        (first["id"],),
    )
    await api.call("POST", f"/v1/withdrawals/{second['id']}/cancel", {"reason": "changed mind"})
    pages = []
    for url in links:
        visitor = Visitor(url)
        try:
            status, page, _ = await visitor.open()
            pages.append((status, page))
        finally:
            await visitor.close()
    assert all(status == 410 for status, _ in pages)
    titles = " ".join(page for _, page in pages)
    assert "Link expired" in titles
    assert "Link withdrawn" in titles
    await api.close()


async def test_email_code_flow(cluster: Cluster, mail: MailServer, tmp_path: Path) -> None:
    api = await _start(cluster, tmp_path, mail.port, email_code=True)
    _status, hold = await api.create(to_carol())
    messages = await mail.wait_for(2)
    link = next(m for m in messages if "/sunrise/" in mail.text(m))
    code = mail.code(next(m for m in messages if m is not link))
    visitor = Visitor(mail.link(link)[0])
    try:
        status, page, _ = await visitor.open()
        assert status == 200
        assert "one-time code" in page
        assert "Alice Smith" not in page  # nothing personal before the code
        wrong = "000000" if code != "000000" else "111111"
        status, page = await visitor.post({"code": wrong}, "/code")
        assert status == 422
        assert "4 tries left" in page
        status, page = await visitor.post({"code": code}, "/code")
        assert status == 200
        assert "Alice Smith" in page
        status, page = await visitor.post({**GOOD_BENEFICIARY, "decision": "accept"})
        assert status == 200, page
        await api.wait_state(hold["id"], "cleared")
        trail = await _audit(cluster, hold["id"])
        assert (f"sunrise:{CAROL}", "sunrise.code_refused") in trail
        assert (f"sunrise:{CAROL}", "sunrise.code_accepted") in trail
    finally:
        await visitor.close()

    # Five wrong codes lock a link for good.
    _status, other = await api.create(to_carol())
    messages = await mail.wait_for(4)
    link = next(m for m in messages[2:] if "/sunrise/" in mail.text(m))
    code = mail.code(next(m for m in messages[2:] if m is not link))
    wrong = "000000" if code != "000000" else "111111"
    visitor = Visitor(mail.link(link)[0])
    try:
        await visitor.open()
        for _ in range(4):
            status, _page = await visitor.post({"code": wrong}, "/code")
        status, page = await visitor.post({"code": wrong}, "/code")
        assert status == 410
        assert "locked" in page
        status, page, _ = await visitor.open()
        assert status == 410
        current = await api.wait_state(other["id"], "awaiting_reply")
        assert current["decision"]["code"] == "EXCHANGE.DELIVERED"
    finally:
        await visitor.close()
        await api.close()


async def test_mail_is_retried_while_the_smtp_server_is_down(
    cluster: Cluster, tmp_path: Path
) -> None:
    mail = MailServer()
    await mail.start()
    port = mail.port
    await mail.stop()  # down: connections are refused
    api = await _start(cluster, tmp_path, port)
    try:
        _status, hold = await api.create(to_carol())
        db = cluster.nodes[ALICE].gateway.db
        for _ in range(200):
            items = await db.read(lambda tx: tx.outbox_items(hold_id=hold["id"]))
            mails = [i for i in items if i.kind == "email"]
            if mails and mails[0].attempts >= 2:
                break
            await mail_sleep()
        assert mails[0].state == "pending"
        assert "unreachable" in (mails[0].last_error or "")
        _status, current = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
        assert current["state"] == "held"
        await mail.start(port)  # up again
        (message,) = await mail.wait_for(1)
        await api.wait_state(hold["id"], "awaiting_reply")
        assert mail.link(message)
    finally:
        await mail.stop()
        await api.close()


async def test_dead_letter_after_the_retry_budget_sends_the_hold_to_a_person(
    cluster: Cluster, tmp_path: Path
) -> None:
    mail = MailServer()
    await mail.start()
    port = mail.port
    await mail.stop()
    api = await _start(cluster, tmp_path, port, max_attempts=2)
    try:
        _status, hold = await api.create(to_carol())
        review = await api.wait_state(hold["id"], "review")
        assert review["decision"]["code"] == "POLICY.COUNTERPARTY_UNREACHABLE"
        assert "SMTP" in review["decision"]["reason"]
        status, items = await api.call("GET", f"/v1/outbox?state=dead&withdrawal={hold['id']}")
        assert status == 200, items
    finally:
        await api.close()


async def mail_sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def test_a_person_accepting_a_review_sends_a_new_link_and_the_hold_waits(
    cluster: Cluster, mail: MailServer, tmp_path: Path
) -> None:
    spec = alice_with_email(tmp_path, mail.port)
    rule = {"name": "carol-first", "when": {"counterparty_name": CAROL}, "action": "review"}
    spec.extra = {**spec.extra, "policy": {"rules": [rule]}}
    await cluster.start(spec)
    api = await Api.connect(cluster.nodes[ALICE])
    reviewer = await Api.connect(cluster.nodes[ALICE])
    try:
        _status, hold = await api.create(to_carol())
        assert hold["state"] == "review"
        assert mail.messages == []
        _status, page = await api.call("GET", "/v1/reviews?state=open")
        [review] = [r for r in page["items"] if r["subject_id"] == hold["id"]]
        status, decided = await reviewer.call(
            "POST",
            f"/v1/reviews/{review['id']}/decision",
            {"decision": "accept", "reason": "Carol is known to us"},
        )
        assert status == 200, decided
        waiting = await api.wait_state(hold["id"], "awaiting_reply")
        assert "sunrise link" in waiting["decision"]["reason"]
        (message,) = await mail.wait_for(1)
        visitor = Visitor(mail.link(message)[0])
        try:
            await visitor.open()
            status, page_text = await visitor.post({**GOOD_BENEFICIARY, "decision": "accept"})
            assert status == 200, page_text
        finally:
            await visitor.close()
        await api.wait_state(hold["id"], "cleared")
    finally:
        await reviewer.close()
        await api.close()


async def test_email_peers_without_an_smtp_server_go_to_a_person(
    cluster: Cluster, tmp_path: Path
) -> None:
    spec = alice_with_email(tmp_path, 25)
    spec.extra = {**spec.extra, "email": {"smtp_host": ""}}
    await cluster.start(spec)
    api = await Api.connect(cluster.nodes[ALICE])
    try:
        _status, hold = await api.create(to_carol())
        assert hold["state"] == "review"
        assert hold["decision"]["code"] == "POLICY.COUNTERPARTY_UNREACHABLE"
        assert "[email] smtp_host" in hold["decision"]["reason"]
    finally:
        await api.close()


async def test_a_missing_password_file_stops_the_start_with_a_config_error(
    cluster: Cluster, mail: MailServer, tmp_path: Path
) -> None:
    spec = alice_with_email(tmp_path, mail.port)
    email = {**spec.extra["email"], "username": "gw", "password_file": str(tmp_path / "nope")}
    spec.extra = {**spec.extra, "email": email}
    with pytest.raises(ConfigError, match="password_file not found"):
        await cluster.start(spec)


async def test_starttls_is_required_when_configured(cluster: Cluster, tmp_path: Path) -> None:
    """A server that offers no STARTTLS gets nothing: the mail waits, with the reason."""
    mail = MailServer()
    await mail.start()
    spec = alice_with_email(tmp_path, mail.port)
    spec.extra = {**spec.extra, "email": {**spec.extra["email"], "starttls": True}}
    await cluster.start(spec)
    api = await Api.connect(cluster.nodes[ALICE])
    try:
        _status, hold = await api.create(to_carol())
        db = cluster.nodes[ALICE].gateway.db
        for _ in range(200):
            items = await db.read(lambda tx: tx.outbox_items(hold_id=hold["id"]))
            mails = [i for i in items if i.kind == "email" and i.attempts]
            if mails:
                break
            await mail_sleep()
        assert "STARTTLS" in (mails[0].last_error or "")
        assert mail.messages == []
    finally:
        await api.close()
        await mail.stop()


async def test_a_hold_canceled_before_its_mail_left_sends_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    mail = MailServer()
    await mail.start()
    port = mail.port
    await mail.stop()
    api = await _start(cluster, tmp_path, port)
    try:
        _status, hold = await api.create(to_carol())
        node = cluster.nodes[ALICE]
        assert node.outbox is not None
        db = node.gateway.db
        # The first attempt has failed (the SMTP server is down): the mail has not left.
        for _ in range(200):
            items = await db.read(lambda tx: tx.outbox_items(hold_id=hold["id"]))
            if any(i.kind == "email" and i.attempts >= 1 for i in items):
                break
            await mail_sleep()
        status, _ = await api.call("POST", f"/v1/withdrawals/{hold['id']}/cancel", {})
        assert status == 200
        await mail.start(port)
        for _ in range(200):
            items = await db.read(lambda tx: tx.outbox_items(hold_id=hold["id"]))
            mails = [i for i in items if i.kind == "email"]
            if mails and mails[0].state != "pending":
                break
            await mail_sleep()
        assert mails[0].state == "delivered"  # settled without sending
        assert mail.messages == []
        assert ("system", "sunrise.link_void") in await _audit(cluster, hold["id"])
    finally:
        await mail.stop()
        await api.close()
