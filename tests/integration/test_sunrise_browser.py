"""A sunrise acceptance in a real browser (Debian's Chromium driven by Playwright), from the
link in the email that a real SMTP server received."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from support.api import Api
from support.nodes import ALICE, Cluster
from support.smtp import MailServer
from support.sunrise import CAROL, alice_with_email, to_carol

if TYPE_CHECKING:
    from playwright.async_api import Browser


async def test_a_counterparty_accepts_in_the_browser(
    cluster: Cluster, browser: Browser, tmp_path: Path
) -> None:
    mail = MailServer()
    await mail.start()
    await cluster.start(alice_with_email(tmp_path, mail.port))
    api = await Api.connect(cluster.nodes[ALICE])
    context = await browser.new_context()
    try:
        _status, hold = await api.create(to_carol())
        (message,) = await mail.wait_for(1)
        url, _token = mail.link(message)
        await api.wait_state(hold["id"], "awaiting_reply")

        blocked: list[str] = []
        page = await context.new_page()
        page.on("console", lambda entry: blocked.append(entry.text))
        response = await page.goto(url)
        assert response is not None
        assert response.status == 200
        assert await page.inner_text("#originator-name") == "Alice Smith"
        assert "0.5 BTC" in await page.inner_text("#amount")
        assert await page.inner_text("#beneficiary-name") == "Carl Brown"

        # The form starts from the beneficiary as sent; the counterparty completes it.
        await page.get_by_label("Given names").fill("Carl")
        await page.get_by_label("Family name (or full legal name)").fill("Brown")
        await page.get_by_label(
            "Country of residence (natural person) or registration (legal person)"
        ).fill("gb")
        await page.get_by_label("Street").fill("Mill Lane")
        await page.get_by_label("Building number").fill("7")
        await page.get_by_label("Town").fill("Manchester")
        await page.get_by_label("Country of the address").fill("ZZ")
        await page.click("#accept")
        # IVMS101 errors come back next to the field; nothing was recorded.
        await page.wait_for_selector("#address_country-error")
        _status, current = await api.call("GET", f"/v1/withdrawals/{hold['id']}")
        assert current["state"] == "awaiting_reply"

        await page.get_by_label("Country of the address").fill("GB")
        await page.click("#accept")
        await page.wait_for_selector("text=Transfer accepted")
        cleared = await api.wait_state(hold["id"], "cleared")
        assert cleared["decision"]["rule"] == "reply:sunrise-accepted"
        persons = cleared["beneficiary_identity"]["beneficiaryPersons"]
        assert persons[0]["naturalPerson"]["countryOfResidence"] == "GB"
        assert not [text for text in blocked if "Content Security Policy" in text]

        # The link is spent: opening it again says so.
        again = await page.goto(url)
        assert again is not None
        assert again.status == 410
        assert CAROL not in await page.inner_text("main")
    finally:
        await context.close()
        await api.close()
        await mail.stop()
