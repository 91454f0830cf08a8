"""The compliance console without a browser: sign-in, sessions, CSRF, roles, headers.

Real nodes (alice holds withdrawals, bob is a robot counterparty over mTLS), real people
enrolled as `travelgate user create` enrols them, and a cookie-keeping HTTP client.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from support.api import Api, withdrawal
from support.console import Console, ConsoleClient, csrf_of, enrol, start_console
from support.nodes import ALICE, BOB, Cluster, two_node_specs
from support.stores import beside


@pytest.fixture
async def console(cluster: Cluster) -> AsyncIterator[Console]:
    async for made in start_console(cluster):
        yield made


# -- on and off --------------------------------------------------------------------------


async def test_console_opens_once_a_person_exists(console: Console) -> None:
    client = console.client()
    status, body = await client.get("/console/sign-in")
    assert status == 404
    assert "travelgate user create" in body
    await enrol(console.node.gateway.db, "observer")
    status, body = await client.get("/console/")
    assert status == 303  # to the sign-in page
    status, body = await client.get("/console/sign-in")
    assert status == 200
    assert '<label for="code">' in body


async def test_console_without_its_slash_is_redirected(console: Console) -> None:
    await enrol(console.node.gateway.db, "observer")
    async with console.client().session.get(
        f"http://127.0.0.1:{console.node.api_port}/console", allow_redirects=False
    ) as response:
        assert (response.status, response.headers["Location"]) == (308, "/console/")


async def test_console_can_be_switched_off(cluster: Cluster) -> None:
    async for made in start_console(cluster, enabled=False):
        await enrol(made.node.gateway.db, "admin")
        status, body = await made.client().get("/console/sign-in")
        assert status == 404
        assert "not_found" in body  # the API's own 404: nothing is mounted


async def test_pages_carry_security_headers(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = await console.signed_in(person)
    async with client.session.get(client.base + "/console/withdrawals") as response:
        assert response.status == 200
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


# -- sign-in -----------------------------------------------------------------------------


async def test_sign_in_cookie_is_secure_httponly_strict(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = console.client()
    token = await client.csrf("/console/sign-in")
    async with client.session.post(
        client.base + "/console/sign-in",
        data={
            "email": person.email,
            "password": person.password,
            "code": person.code(),
            "csrf_token": token,
        },
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        cookies = response.headers.getall("Set-Cookie")
    [session] = [c for c in cookies if c.startswith("__Host-travelgate_console=")]
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in session
    assert "Domain" not in session
    rows = await console.node.gateway.db.read(lambda tx: tx.count("console_sessions"))
    assert rows == 1
    value = session.split(";")[0].split("=", 1)[1]
    # Only a keyed digest of the token is stored.
    [(dumped,)] = beside(console.node.gateway.db.where, "SELECT token_digest FROM console_sessions")
    assert value not in dumped
    [signed_in] = await console.audit("user.signed_in")
    assert signed_in.actor == person.actor
    assert signed_in.detail["source"] == "console"


async def test_wrong_code_or_password_is_refused_and_audited(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    client = console.client()
    wrong_code = "000000" if person.code() != "000000" else "111111"
    status, body, _ = await client.sign_in(person, code=wrong_code)
    assert status == 401
    assert "wrong email, password or code" in body
    status, body, _ = await client.sign_in(person, password="not-the-password")
    assert status == 401
    stranger = dataclasses.replace(person, email="nobody@alice.example")
    status, body, _ = await client.sign_in(stranger)
    assert status == 401
    assert "wrong email, password or code" in body
    failed = await console.audit("user.sign_in_failed")
    assert [(r.actor, r.detail["why"]) for r in failed] == [(person.actor, "credentials")] * 2
    [unknown] = await console.audit("console.sign_in_failed")
    assert unknown.detail == {"why": "unknown_email"}
    assert "nobody" not in str(unknown.detail)  # no personal data in the trail
    status, body, _ = await client.sign_in(person, code="")
    assert status == 400
    assert "Enter your email, password and the code" in body
    incomplete = await console.audit("console.sign_in_failed")
    assert incomplete[-1].detail == {"why": "incomplete"}
    status, _ = await client.get("/console/")
    assert status == 303


async def test_lock_out_after_repeated_failures(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    client = console.client()
    for _ in range(5):
        status, _body, _ = await client.sign_in(person, password="wrong")
        assert status == 401
    status, body, _ = await client.sign_in(person)  # the right password and code now
    assert status == 401
    assert "too many failed sign-ins" in body
    failed = await console.audit("user.sign_in_failed")
    assert failed[-1].detail["why"] == "locked"
    assert "locked_until" in failed[4].detail


async def test_sign_out_ends_the_session_for_good(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = await console.signed_in(person)
    cookies = {c.key: c.value for c in client.session.cookie_jar}
    token = await client.csrf()
    status, _, location = await client.post("/console/sign-out", {}, csrf=token)
    assert (status, location) == (303, "/console/sign-in?notice=signed_out")
    [out] = await console.audit("user.signed_out")
    assert out.actor == person.actor
    # The old cookie, replayed, signs nobody in.
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as replay,
        replay.get(
            client.base + "/console/", headers={"Cookie": cookie}, allow_redirects=False
        ) as response,
    ):
        assert response.status == 303
        assert response.headers["Location"].startswith("/console/sign-in")


# -- sessions end ------------------------------------------------------------------------


async def test_idle_session_expires_and_use_keeps_it_alive(cluster: Cluster) -> None:
    async for made in start_console(cluster, idle_timeout="3s"):
        person = await enrol(made.node.gateway.db, "observer")
        client = await made.signed_in(person)
        for _ in range(8):  # 4 s of use, longer than the idle timeout
            assert (await client.get("/console/"))[0] == 200
            await asyncio.sleep(0.5)
        await asyncio.sleep(3.5)
        async with client.session.get(client.base + "/console/", allow_redirects=False) as r:
            assert r.status == 303
            assert r.headers["Location"] == "/console/sign-in?notice=expired"


async def test_session_ends_at_its_absolute_lifetime_even_when_busy(cluster: Cluster) -> None:
    async for made in start_console(cluster, idle_timeout="1h", session_lifetime="5s"):
        person = await enrol(made.node.gateway.db, "observer")
        client = await made.signed_in(person)
        loop = asyncio.get_running_loop()
        signed_in_at = loop.time()
        while loop.time() - signed_in_at < 6:
            status, _ = await client.get("/console/")
            if status != 200:
                break
            await asyncio.sleep(0.3)
        assert status == 303
        assert loop.time() - signed_in_at > 2  # it lived, then ended while in use


async def test_disabled_person_is_signed_out_at_once(console: Console) -> None:
    db = console.node.gateway.db
    admin = await enrol(db, "admin")
    observer = await enrol(db, "observer")
    watcher = await console.signed_in(observer)
    assert (await watcher.get("/console/withdrawals"))[0] == 200
    boss = await console.signed_in(admin)
    token = await boss.csrf("/console/users")
    status, _, location = await boss.post(
        f"/console/users/{observer.user_id}/disable", {}, csrf=token
    )
    assert (status, location) == (303, "/console/users?notice=disabled")
    status, _ = await watcher.get("/console/withdrawals")
    assert status == 303
    status, _body, _ = await console.client().sign_in(observer)
    assert status == 401
    [disabled] = await console.audit("user.disabled")
    assert disabled.actor == admin.actor


# -- CSRF --------------------------------------------------------------------------------


async def test_post_without_the_csrf_token_changes_nothing(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    client = await console.signed_in(person)
    hold_id, review_id = await console.review_hold()
    decision = {"decision": "accept", "reason": "checked"}
    stale = csrf_of((await client.get("/console/"))[1]) + "x"
    for token in (None, "forged", stale):
        status, body, _ = await client.post(
            f"/console/reviews/{review_id}/decision", decision, csrf=token
        )
        assert status == 403, body
        assert "reload the page" in body
    status, hold = await console.api.call("GET", f"/v1/withdrawals/{hold_id}")
    assert hold["state"] == "review"
    assert await console.audit("review.accepted") == []


async def test_sign_in_form_needs_its_csrf_token(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = console.client()
    await client.get("/console/sign-in")  # the sign-in cookie, but no token sent
    status, _body, _ = await client.post(
        "/console/sign-in",
        {"email": person.email, "password": person.password, "code": person.code()},
    )
    assert status == 403
    assert await console.audit("user.signed_in") == []


# -- roles -------------------------------------------------------------------------------

ADMIN_POSTS = (
    "/console/counterparties/bob.example/block",
    "/console/users",
    "/console/users/{user}/disable",
    "/console/users/{user}/reset",
    "/console/api-keys",
    "/console/api-keys/{key}/revoke",
)
COMPLIANCE_POSTS = (
    "/console/reviews/{review}/decision",
    "/console/withdrawals/{hold}/cancel",
    "/console/exports",
)
FORM = {
    "decision": "accept",
    "reason": "looks fine",
    "case": "CASE-1",
    "holds": "x",
    "email": "new@alice.example",
    "role": "admin",
    "name": "k",
    "scope": "withdrawals",
}


async def test_every_post_checks_the_role(console: Console) -> None:
    db = console.node.gateway.db
    observer = await enrol(db, "observer")
    compliance = await enrol(db, "compliance")
    hold_id, review_id = await console.review_hold()
    key_id = console.api.key.split("_")[1]
    names = {"user": compliance.user_id, "key": key_id, "review": review_id, "hold": hold_id}
    for person, refused in ((observer, ADMIN_POSTS + COMPLIANCE_POSTS), (compliance, ADMIN_POSTS)):
        client = await console.signed_in(person)
        token = await client.csrf()
        for path in refused:
            status, body, _ = await client.post(path.format(**names), FORM, csrf=token)
            assert status == 403, (person.role, path, body)
            assert "You may not" in body
    refusals = await console.audit("console.refused")
    assert len(refusals) == 2 * len(ADMIN_POSTS) + len(COMPLIANCE_POSTS)
    assert {r.detail["why"] for r in refusals} == {"role"}
    # Nothing changed: the review is open, nobody was added, the key works.
    status, hold = await console.api.call("GET", f"/v1/withdrawals/{hold_id}")
    assert hold["state"] == "review"
    assert len(await db.read(lambda tx: tx.users())) == 2


async def test_admin_pages_are_refused_to_other_roles(console: Console) -> None:
    observer = await enrol(console.node.gateway.db, "observer")
    client = await console.signed_in(observer)
    for path in ("/console/users", "/console/api-keys", "/console/exports"):
        status, body = await client.get(path)
        assert status == 403, path
    for path in (
        "/console/",
        "/console/withdrawals",
        "/console/deposits",
        "/console/reviews",
        "/console/counterparties",
        "/console/audit",
    ):
        status, body = await client.get(path)
        assert status == 200, (path, body)


# -- what officers do --------------------------------------------------------------------


async def test_viewing_identities_is_audited(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = await console.signed_in(person)
    hold_id, _ = await console.review_hold()
    status, body = await client.get(f"/console/withdrawals/{hold_id}")
    assert status == 200
    assert "Show identities" in body
    assert "Smith" not in body
    assert await console.audit("identity.viewed") == []
    status, body = await client.get(f"/console/withdrawals/{hold_id}?show=identities")
    assert status == 200
    assert "Alice Smith (legal name)" in body
    assert "1980-01-31 in London" in body
    assert "Show raw IVMS101" in body
    [viewed] = await console.audit("identity.viewed")
    assert (viewed.actor, viewed.subject) == (person.actor, f"hold:{hold_id}")


async def test_review_decision_needs_a_reason(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    client = await console.signed_in(person)
    hold_id, review_id = await console.review_hold()
    token = await client.csrf()
    status, body, _ = await client.post(
        f"/console/reviews/{review_id}/decision", {"decision": "accept", "reason": "  "}, csrf=token
    )
    assert status == 422
    assert "Give a reason" in body
    status, body, location = await client.post(
        f"/console/reviews/{review_id}/decision",
        {"decision": "reject", "reason": "customer could not explain"},
        csrf=token,
    )
    assert (status, location) == (303, f"/console/withdrawals/{hold_id}?notice=rejected")
    status, hold = await console.api.call("GET", f"/v1/withdrawals/{hold_id}")
    assert hold["state"] == "rejected"
    [decided] = await console.audit("review.rejected")
    assert decided.actor == person.actor


async def test_compliance_cancels_a_withdrawal_with_a_reason(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    client = await console.signed_in(person)
    hold_id, _ = await console.review_hold()
    token = await client.csrf()
    status, body, _location = await client.post(
        f"/console/withdrawals/{hold_id}/cancel", {"reason": "customer asked"}, csrf=token
    )
    assert status == 303, body
    status, hold = await console.api.call("GET", f"/v1/withdrawals/{hold_id}")
    assert hold["state"] == "canceled"
    assert hold["decision"]["reason"] == "customer asked"


async def test_lists_take_the_api_filters(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = await console.signed_in(person)
    hold_id, _ = await console.review_hold()
    status, body = await client.get("/console/withdrawals?state=review&customer_id=cust-1")
    assert status == 200
    assert hold_id in body
    status, body = await client.get("/console/withdrawals?state=cleared")
    assert hold_id not in body
    status, body = await client.get("/console/withdrawals?state=bogus")
    assert status == 400
    assert "state must be one of" in body
    status, body = await client.get("/console/withdrawals?created_after=yesterday")
    assert status == 400
    status, body = await client.get("/console/withdrawals?limit=1")
    assert status == 200
    assert re.search(r"cursor=", body) is None  # one withdrawal: no next page


async def test_admin_creates_a_person_and_an_api_key(console: Console) -> None:
    admin = await enrol(console.node.gateway.db, "admin")
    client = await console.signed_in(admin)
    token = await client.csrf("/console/users")
    status, body, _ = await client.post(
        "/console/users", {"email": "new@alice.example", "role": "compliance"}, csrf=token
    )
    assert status == 200
    assert 'id="one-time-password"' in body
    status, body, _ = await client.post(
        "/console/api-keys",
        [("name", "withdrawal service"), ("scope", "withdrawals"), ("scope", "reviews")],
        csrf=token,
    )
    assert status == 200
    key = re.search(r'id="new-key">(tgk_[^<]+)<', body)
    assert key is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            client.base + "/v1/withdrawals", headers={"Authorization": f"Bearer {key.group(1)}"}
        ) as response,
    ):
        assert response.status == 200
    created = await console.audit("apikey.created")
    assert [r.actor for r in created] == ["operator", admin.actor]  # the test's key, then ours


async def test_one_time_password_opens_only_the_password_page(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    elsewhere = console.client()
    assert (await elsewhere.sign_in(person))[0] == 303
    client = console.client()
    status, body, location = await client.sign_in(person)
    assert (status, location) == (303, "/console/")
    async with client.session.get(client.base + "/console/withdrawals", allow_redirects=False) as r:
        assert (r.status, r.headers["Location"]) == (303, "/console/password")
    _hold_id, review_id = await console.review_hold()
    token = await client.csrf("/console/password")
    status, body, _ = await client.post(
        f"/console/reviews/{review_id}/decision", {"decision": "accept", "reason": "ok"}, csrf=token
    )
    assert status == 403
    assert "Choose your own password first" in body
    for new, confirm, problem in (
        ("short", "short", "at least 12 characters"),
        ("a-long-enough-one", "another-long-one", "The two new passwords differ."),
        (person.password, person.password, "other than the current one"),
    ):
        status, body, _ = await client.post(
            "/console/password",
            {"current": person.password, "password": new, "confirm": confirm},
            csrf=token,
        )
        assert status == 422
        assert problem in body
    status, body, _ = await client.post(
        "/console/password",
        {"current": "wrong", "password": "a-long-enough-one", "confirm": "a-long-enough-one"},
        csrf=token,
    )
    assert "The current password is wrong." in body
    await client.choose_password(person)
    assert (await client.get("/console/withdrawals"))[0] == 200
    # The other session, opened with the one-time password, ended with it.
    assert (await elsewhere.get("/console/"))[0] == 303
    [changed] = await console.audit("user.password_changed")
    assert changed.actor == person.actor
    # The new password signs in; the one-time one no longer does.
    assert (await console.client().sign_in(person))[0] == 303


async def test_deposit_pages_and_deciding_a_deposit_review(cluster: Cluster) -> None:
    await cluster.start(*two_node_specs(bob_robot=None))
    alice, bob = cluster.nodes[ALICE], cluster.nodes[BOB]
    alice_api, bob_api = await Api.connect(alice), await Api.connect(bob)
    made = Console(bob, bob_api, [])
    try:
        # Bob's customer is Bob Jones: "Robert Jones" sends the deposit to a person.
        _status, hold = await alice_api.create(withdrawal(beneficiary={"name": "Robert Jones"}))
        await alice_api.wait_state(hold["id"], "awaiting_reply")
        person = await enrol(bob.gateway.db, "compliance", "officer@bob.example")
        client = await made.signed_in(person)
        status, reviews = await bob_api.call("GET", "/v1/reviews?state=open")
        [review] = reviews["items"]
        status, deposit = await bob_api.call("GET", f"/v1/deposits/{review['subject_id']}")
        status, body = await client.get(f"/console/deposits?state={deposit['state']}")
        assert status == 200
        assert deposit["id"] in body
        status, body = await client.get(f"/console/deposits/{deposit['id']}?show=identities")
        assert status == 200
        assert "Alice Smith (legal name)" in body  # the originator, as alice sent her
        assert "received" in body  # the envelope that came in
        [viewed] = await made.audit("identity.viewed")
        assert viewed.subject == f"deposit:{deposit['id']}"
        token = await client.csrf("/console/reviews")
        status, body, location = await client.post(
            f"/console/reviews/{review['id']}/decision",
            {"decision": "accept", "reason": "Robert is Bob: checked with the customer"},
            csrf=token,
        )
        assert (status, location) == (303, "/console/reviews?notice=accepted"), body
        cleared = await alice_api.wait_state(hold["id"], "cleared")
        assert cleared["state"] == "cleared"
    finally:
        for opened in made.clients:
            await opened.close()
        await alice_api.close()
        await bob_api.close()


async def test_dashboard_and_counterparties_show_the_node(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = await console.signed_in(person)
    hold_id, _ = await console.review_hold()
    status, body = await client.get("/console/")
    assert status == 200
    assert "1 <small>open</small>" in body
    assert hold_id in body  # the oldest open review
    assert "node:tls" in body
    assert "peer:bob.example" in body
    status, body = await client.get("/console/counterparties")
    assert status == 200
    assert 'id="peer-bob.example"' in body
    assert "spki:" in body  # the pinned certificate's key fingerprint
    assert "Last exchange" in body


async def test_audit_page_names_the_first_broken_record(console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    client = await console.signed_in(person)
    status, body = await client.get("/console/audit")
    assert "Chain intact" in body
    beside(console.node.gateway.db.where, "UPDATE audit SET actor = 'mallory' WHERE id = 2")
    status, body = await client.get("/console/audit?action=user")
    assert status == 200
    assert "Chain broken after 1 intact records: record 2" in body


async def test_admin_blocks_a_counterparty_at_once_and_across_restarts(
    console: Console, cluster: Cluster
) -> None:
    admin = await enrol(console.node.gateway.db, "admin")
    client = await console.signed_in(admin)
    token = await client.csrf("/console/counterparties")
    status, body, location = await client.post(
        "/console/counterparties/bob.example/block", {"reason": "licence suspended"}, csrf=token
    )
    assert (status, location) == (303, "/console/counterparties?notice=blocked"), body
    status, hold = await console.api.create(withdrawal())
    assert status == 201
    assert hold["state"] == "review"  # nothing goes to a blocked counterparty
    [blocked] = await console.audit("counterparty.blocked")
    assert (blocked.actor, blocked.subject) == (admin.actor, "peer:bob.example")
    node = await cluster.restart(ALICE)
    peer = node.gateway.directory.get(BOB)
    assert peer is not None
    assert peer.blocked
    again = ConsoleClient(node.api_port)
    try:
        status, _, _ = await again.sign_in(admin)
        assert status == 303
        token = await again.csrf("/console/counterparties")
        status, body, _ = await again.post(
            "/console/counterparties/bob.example/unblock", {"reason": "licence back"}, csrf=token
        )
        assert status == 303, body
        status, body, _ = await again.post(
            "/console/counterparties/bob.example/unblock", {"reason": "again"}, csrf=token
        )
        assert status == 409
    finally:
        await again.close()
    peer = node.gateway.directory.get(BOB)
    assert peer is not None
    assert not peer.blocked
