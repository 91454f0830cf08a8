"""Sending email over SMTP: the standard library's `smtplib`, in a worker thread.

One connection per message (a sunrise mail is rare), STARTTLS with certificate checks when
configured, a login when a username is set. Every failure is an `EmailDeliveryError` with
the server's words, which the outbox records and retries; the password never appears in
a message or a log.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import structlog

from travelgate.config import EmailSection
from travelgate.errors import ConfigError, EmailDeliveryError

log = structlog.get_logger("travelgate.sunrise")


def read_password(path: Path | None) -> str:
    """`[email] password_file`, read once at start; a clear ConfigError when unusable."""
    if path is None:
        return ""
    try:
        mode = path.stat().st_mode
        password = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(f"[email] password_file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"[email] password_file {path} is not readable: {exc}") from None
    if not password:
        raise ConfigError(f"[email] password_file {path} is empty")
    if mode & 0o077:
        log.warning("email password file readable by others; chmod 600 advised", path=str(path))
    return password


@dataclass(frozen=True)
class Mailer:
    settings: EmailSection
    password: str = ""

    def compose(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        domain = self.settings.sender.rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        return message

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        settings = self.settings
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.timeout
            ) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username:
                    smtp.login(settings.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            said = (error.decode("utf-8", "replace") if isinstance(error, bytes) else error)[:200]
            raise EmailDeliveryError(f"SMTP {where} answered {exc.smtp_code}: {said}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise EmailDeliveryError(
                f"SMTP {where} refused the recipient {', '.join(exc.recipients)}"
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise EmailDeliveryError(
                f"SMTP {where} unreachable: {type(exc).__name__}: {exc}"[:300]
            ) from None
