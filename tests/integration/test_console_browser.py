"""The compliance console in a real browser (Debian's Chromium driven by Playwright).

Each test opens a fresh browser context against a real node and signs in the way a person
does: email, password and the current code of their authenticator (computed from the
enrolment secret). What the pages did is then checked where it matters: the JSON API, the
audit trail, `travelgate records verify`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from support.api import withdrawal
from support.console import Console, Person, enrol, start_console
from support.nodes import Cluster
from support.processes import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
async def console(cluster: Cluster) -> AsyncIterator[Console]:
    async for made in start_console(cluster):
        yield made


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    opened = await browser.new_context(
        viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        await opened.close()


async def sign_in(context: BrowserContext, console: Console, person: Person) -> Page:
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{console.node.api_port}/console/")
    await expect(page).to_have_url(re.compile(r".*/console/sign-in$"))
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(person.password)
    await page.get_by_label("Code from your authenticator app").fill(person.code())
    await page.get_by_role("button", name="Sign in").click()
    # The one-time password opens one page: the one that replaces it.
    await expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    chosen = f"{person.password}-own-{len(person.password)}"
    await page.get_by_label("Current password").fill(person.password)
    await page.get_by_label("New password (at least 12 characters)").fill(chosen)
    await page.get_by_label("New password again").fill(chosen)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    await expect(page.get_by_text("Password changed.")).to_be_visible()
    person.password = chosen
    return page


async def test_sign_in_with_a_totp_code(context: BrowserContext, console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    page = await sign_in(context, console, person)
    await expect(page.get_by_text(person.email)).to_be_visible()
    await expect(page.get_by_role("link", name="Withdrawals")).to_be_visible()
    # An observer is offered no admin page.
    await expect(page.get_by_role("link", name="People")).to_have_count(0)
    cookies = await context.cookies()
    [session] = [c for c in cookies if c["name"] == "__Host-travelgate_console"]
    assert session["httpOnly"]
    assert session["secure"]
    assert session["sameSite"] == "Strict"
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_text("You are signed out.")).to_be_visible()


async def test_review_accepted_in_the_browser(context: BrowserContext, console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    hold_id, _ = await console.review_hold()
    page = await sign_in(context, console, person)
    await page.get_by_role("link", name="Reviews").click()
    review = page.locator("article.review").filter(has_text="62000.00 USD")
    await review.get_by_label("Reason (required, kept in the audit trail)").fill(
        "source of funds documented"
    )
    await review.get_by_role("button", name="Accept").click()
    await expect(page.get_by_text("Review accepted and acted on.")).to_be_visible()
    assert page.url.endswith(f"/console/withdrawals/{hold_id}?notice=accepted")
    # The same hold, through the JSON API: the exchange started and Bob's robot accepts.
    hold = await console.api.wait_state(hold_id, "cleared")
    assert hold["decision"]["code"] == "REPLY.ACCEPTED"
    [accepted] = await console.audit("review.accepted")
    assert accepted.actor == person.actor
    # The detail page now shows the envelopes that went out and came back.
    await page.reload()
    timeline = page.locator("section", has=page.get_by_role("heading", name="Envelopes in and out"))
    await expect(timeline.get_by_role("cell", name="sent").first).to_be_visible()
    await expect(timeline.get_by_role("cell", name="received").first).to_be_visible()


async def test_four_eyes_refuses_the_creator(context: BrowserContext, console: Console) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    # A withdrawal this person's principal created (the service the API's POST calls).
    view, status = await console.node.gateway.holds.create(
        person.actor, "four-eyes-1", withdrawal(value={"amount": "70000.00", "currency": "USD"})
    )
    assert (status, view["state"]) == (201, "review")
    page = await sign_in(context, console, person)
    await page.goto(f"http://127.0.0.1:{console.node.api_port}/console/withdrawals/{view['id']}")
    await page.get_by_label("Reason (required, kept in the audit trail)").fill("fine by me")
    await page.get_by_role("button", name="Accept").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Four eyes: you created this withdrawal, so another person must decide its review."
    )
    status, hold = await console.api.call("GET", f"/v1/withdrawals/{view['id']}")
    assert hold["state"] == "review"
    [refused] = await console.audit("console.refused")
    assert (refused.actor, refused.detail["why"]) == (person.actor, "four_eyes")
    # A colleague may decide it.
    colleague = await enrol(console.node.gateway.db, "compliance", "colleague@alice.example")
    other = await sign_in(await context.browser.new_context(), console, colleague)  # type: ignore[union-attr]
    await other.goto(f"http://127.0.0.1:{console.node.api_port}/console/withdrawals/{view['id']}")
    await other.get_by_label("Reason (required, kept in the audit trail)").fill("checked twice")
    await other.get_by_role("button", name="Reject").click()
    await expect(other.get_by_text("Review rejected and acted on.")).to_be_visible()
    await other.context.close()


async def test_observer_is_refused_a_decision(context: BrowserContext, console: Console) -> None:
    person = await enrol(console.node.gateway.db, "observer")
    hold_id, review_id = await console.review_hold()
    page = await sign_in(context, console, person)
    await page.get_by_role("link", name="Reviews").click()
    await expect(
        page.get_by_text("Only the compliance and admin roles decide reviews.")
    ).to_be_visible()
    await expect(page.get_by_role("button", name="Accept")).to_have_count(0)
    # The form sent anyway, from this browser's own session, is refused and audited.
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = await page.request.post(
        f"http://127.0.0.1:{console.node.api_port}/console/reviews/{review_id}/decision",
        form={"decision": "accept", "reason": "trust me", "csrf_token": token or ""},
        max_redirects=0,
    )
    assert response.status == 403
    assert "it needs the compliance or admin role" in await response.text()
    _status, hold = await console.api.call("GET", f"/v1/withdrawals/{hold_id}")
    assert hold["state"] == "review"
    [refused] = await console.audit("console.refused")
    assert (refused.actor, refused.detail["why"]) == (person.actor, "role")


async def test_export_downloads_a_zip_that_verifies(
    context: BrowserContext, console: Console, tmp_path: Path
) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    hold_id, _ = await console.review_hold()
    page = await sign_in(context, console, person)
    await page.get_by_role("link", name="Exports").click()
    await page.get_by_label("Case reference (required)").fill("LEA-2026-041")
    await page.get_by_label("Withdrawal ids (one per line)").fill(hold_id)
    await page.get_by_label("Customer ids (one per line)").fill("cust-1")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Export and download").click()
    download = await waiting.value
    assert download.suggested_filename == "LEA-2026-041.zip"
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    verified = await asyncio.to_thread(run_cli, "records", "verify", str(target))
    assert verified.returncode == 0, verified.stderr.decode()
    assert b"manifest signature holds" in verified.stdout
    [exported] = await console.audit("records.exported")
    assert exported.actor == person.actor
    assert exported.detail["holds"] == 1


async def test_audit_page_shows_the_chain_intact(context: BrowserContext, console: Console) -> None:
    person = await enrol(console.node.gateway.db, "admin")
    await console.review_hold()
    page = await sign_in(context, console, person)
    await page.get_by_role("link", name="Audit trail").click()
    await expect(page.locator("#chain-status")).to_contain_text("Chain intact")
    await page.get_by_label("Action").fill("user")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_role("cell", name="user.signed_in")).to_be_visible()
    await expect(page.get_by_role("cell", name="hold.created")).to_have_count(0)


async def test_keyboard_alone_signs_in_and_reaches_every_page(
    context: BrowserContext, console: Console
) -> None:
    person = await enrol(console.node.gateway.db, "admin")
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{console.node.api_port}/console/sign-in")
    # The email field takes the focus (autofocus) once the page settles: wait for it, or
    # the first keystrokes land nowhere on a busy machine.
    await expect(page.locator("#email")).to_be_focused()
    await page.keyboard.type(person.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(person.password)
    await page.keyboard.press("Tab")
    await page.keyboard.type(person.code())
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    chosen = f"{person.password}-keyboard"
    await page.keyboard.press("Tab")  # skip link, then the fields in order
    for _ in range(20):
        if await page.evaluate("document.activeElement.id") == "current":
            break
        await page.keyboard.press("Tab")
    for text in (person.password, chosen, chosen):
        await page.keyboard.type(text)
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # The first Tab reaches "Skip to content"; every nav link is reachable by Tab.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    reached = set()
    for _ in range(30):
        await page.keyboard.press("Tab")
        reached.add(await page.evaluate("document.activeElement.textContent"))
    for link in (
        "Withdrawals",
        "Deposits",
        "Reviews",
        "Counterparties",
        "Audit trail",
        "Exports",
        "People",
        "API keys",
        "Sign out",
    ):
        assert link in reached, link
    # Every form field of every page has a label.
    for path in ("withdrawals", "deposits", "reviews", "audit", "exports", "users", "api-keys"):
        await page.goto(f"http://127.0.0.1:{console.node.api_port}/console/{path}")
        unlabelled = await page.evaluate(
            """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
               .filter(e => !(e.labels && e.labels.length)).map(e => e.name)"""
        )
        assert unlabelled == [], (path, unlabelled)


async def test_pages_fit_a_phone(
    context: BrowserContext, console: Console, browser: Browser
) -> None:
    person = await enrol(console.node.gateway.db, "compliance")
    hold_id, _ = await console.review_hold()
    await sign_in(context, console, person)
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=await context.storage_state()
    )
    try:
        page = await phone.new_page()
        for path in ("", "withdrawals", f"withdrawals/{hold_id}", "reviews", "audit"):
            await page.goto(f"http://127.0.0.1:{console.node.api_port}/console/{path}")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
    finally:
        await phone.close()
