"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

LINK = re.compile(r"https?://\S+/sunrise/([A-Za-z0-9_-]{20,})")
CODE = re.compile(r"one-time code is (\d{6})")


class MailServer:
    """Listens on 127.0.0.1 (port 0 unless told); `stop` and `start(port)` again to play an
    outage."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    async def start(self, port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="mail.test"), "127.0.0.1", port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def wait_for(self, count: int, seconds: float = 20) -> list[EmailMessage]:
        async with asyncio.timeout(seconds):
            while len(self.messages) < count:
                await asyncio.sleep(0.05)
        return self.messages

    def text(self, message: EmailMessage) -> str:
        body: Any = message.get_body(("plain",))
        return str(body.get_content()) if body is not None else ""

    def link(self, message: EmailMessage) -> tuple[str, str]:
        """(URL, token) of the sunrise link a message carries."""
        match = LINK.search(self.text(message))
        assert match is not None, self.text(message)
        return match.group(0), match.group(1)

    def code(self, message: EmailMessage) -> str:
        match = CODE.search(self.text(message))
        assert match is not None, self.text(message)
        return match.group(1)
