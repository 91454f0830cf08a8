"""The TRP client: POSTs inquiries, resolutions and confirmations over mutual TLS (TRP v3).

One `TrpClient` per process keeps one aiohttp session (a connection per message). Every
request carries `api-version` and the transfer's `request-identifier`; the server
certificate must chain to the trust bundle of the SSL context and name the URL's host, and
its common name is reported as the counterparty. Redirects are never followed (a Travel
Address must not bounce our identity data elsewhere). Failures raise `TrpRemoteError` with
`retryable` set per TRP v3.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from cryptography import x509

from travelgate import pki
from travelgate.errors import TrpError, TrpRemoteError
from travelgate.trp._discovery import (
    ExtensionsInfo,
    IdentityInfo,
    VersionInfo,
    parse_extensions,
    parse_identity,
    parse_version,
)
from travelgate.trp._headers import (
    API_VERSION,
    API_VERSION_HEADER,
    REQUEST_IDENTIFIER_HEADER,
    new_request_identifier,
    request_headers,
)
from travelgate.trp._json import MAX_BODY_BYTES
from travelgate.trp._messages import (
    ConfirmationMessage,
    Inquiry,
    InquiryResponse,
    Resolution,
    emit,
    parse_inquiry_response,
)
from travelgate.trp._targets import inquiry_url

USER_AGENT = "travelgate TRP client"
DEFAULT_TIMEOUT = 30.0
# Worth resending the identical body (TRP v3); 500 too, as the outbox bounds the tries.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_ERROR_TEXT_LIMIT = 300


@dataclass(frozen=True)
class PeerReply:
    """A 2xx answer: who answered (the server certificate's CN) and what it said."""

    url: str
    status: int
    peer_common_name: str
    api_version: str
    request_identifier: str
    body: bytes


@dataclass(frozen=True)
class InquiryAnswer:
    """The answer to an inquiry: acknowledgement or immediate decision, and the reply."""

    response: InquiryResponse
    reply: PeerReply


class TrpClient:
    """Sends TRP messages with our client certificate. Use as `async with TrpClient(...)`."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        api_version: str = API_VERSION,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not ssl_context.check_hostname or ssl_context.verify_mode != ssl.CERT_REQUIRED:
            raise ValueError("a TRP client context must verify the server certificate and host")
        self._ssl = ssl_context
        self._api_version = api_version
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TrpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_inquiry(
        self,
        target: str,
        inquiry: Inquiry,
        *,
        request_identifier: str,
        extensions: Iterable[str] = (),
    ) -> InquiryAnswer:
        """POST `inquiry` to a Travel Address, LNURL or https URL (`t=i` is set)."""
        url = inquiry_url(target)
        reply = await self._post(url, emit(inquiry), request_identifier, tuple(extensions))
        try:
            response = parse_inquiry_response(reply.body)
        except TrpError as exc:
            raise TrpRemoteError(
                f"{url} answered the inquiry with a body that is not a TRP answer: {exc.message}",
                peer_status=reply.status,
                retryable=False,
            ) from None
        return InquiryAnswer(response, reply)

    async def post(self, url: str, body: bytes, *, request_identifier: str) -> PeerReply:
        """POST a message already emitted (the outbox resends stored bytes as they were)."""
        return await self._post(url, body, request_identifier, ())

    async def send_resolution(
        self, callback: str, resolution: Resolution, *, request_identifier: str
    ) -> PeerReply:
        """POST our approval or rejection to the originator's inquiry callback."""
        return await self._post(callback, emit(resolution), request_identifier, ())

    async def send_confirmation(
        self, callback: str, message: ConfirmationMessage, *, request_identifier: str
    ) -> PeerReply:
        """POST the txid or the cancel to the beneficiary's approval callback."""
        return await self._post(callback, emit(message), request_identifier, ())

    async def get_version(self, url: str) -> VersionInfo:
        return parse_version((await self._get(url, "/version")).body)

    async def get_extensions(self, url: str) -> ExtensionsInfo:
        return parse_extensions((await self._get(url, "/extensions")).body)

    async def get_identity(self, url: str) -> IdentityInfo:
        return parse_identity((await self._get(url, "/identity")).body)

    async def _get(self, url: str, path: str) -> PeerReply:
        """GET a discoverability path at the root of `url`'s host."""
        parts = urlsplit(url)
        root = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        headers = request_headers(
            new_request_identifier(), api_version=self._api_version, with_body=False
        )
        return await self._request("GET", root, None, headers)

    async def _post(
        self, url: str, body: bytes, request_identifier: str, extensions: tuple[str, ...]
    ) -> PeerReply:
        headers = request_headers(
            request_identifier, api_version=self._api_version, extensions=extensions
        )
        return await self._request("POST", url, body, headers)

    async def _request(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> PeerReply:
        if not url.lower().startswith("https://"):
            raise TrpRemoteError(
                f"TRP endpoints are https only, not {url[:80]!r}", peer_status=None, retryable=False
            )
        session = self._open_session()
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers={**headers, "user-agent": USER_AGENT},
                ssl=self._ssl,
                allow_redirects=False,
            ) as response:
                common_name = _peer_common_name(response)
                payload = await _read_limited(response)
        except aiohttp.ClientConnectorCertificateError as exc:
            raise TrpRemoteError(
                f"{url}: server certificate refused: {exc.certificate_error}",
                peer_status=None,
                retryable=False,
            ) from None
        except aiohttp.ClientSSLError as exc:
            raise TrpRemoteError(
                f"{url}: TLS handshake failed: {exc}", peer_status=None, retryable=False
            ) from None
        except TimeoutError:
            raise TrpRemoteError(
                f"{url}: no answer within {self._timeout.total:g} s",
                peer_status=None,
                retryable=True,
            ) from None
        except aiohttp.ClientError as exc:
            raise TrpRemoteError(
                f"{url}: {type(exc).__name__}: {exc}", peer_status=None, retryable=True
            ) from None
        if not 200 <= response.status < 300:
            raise TrpRemoteError(
                f"{url} answered {response.status}: {_error_text(payload)}",
                peer_status=response.status,
                retryable=response.status in RETRYABLE_STATUSES,
            )
        return PeerReply(
            url=url,
            status=response.status,
            peer_common_name=common_name,
            api_version=response.headers.get(API_VERSION_HEADER, ""),
            request_identifier=response.headers.get(REQUEST_IDENTIFIER_HEADER, ""),
            body=payload,
        )

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # One connection per message: TRP messages to a peer are few and far apart, and
            # a connection closed with its answer leaves no TLS session to tear down later.
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                response_class=_CertifiedResponse,
                connector=aiohttp.TCPConnector(force_close=True),
            )
        return self._session


class _CertifiedResponse(aiohttp.ClientResponse):
    """A response that keeps the server certificate of the connection it arrived on (the
    connection goes back to the pool as soon as a small body is read).
    """

    server_certificate: bytes | None = None

    async def start(self, connection: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
        transport = connection.transport
        ssl_object: Any = transport.get_extra_info("ssl_object") if transport else None
        if ssl_object is not None:
            self.server_certificate = ssl_object.getpeercert(binary_form=True)
        return await super().start(connection)


def _peer_common_name(response: aiohttp.ClientResponse) -> str:
    der = getattr(response, "server_certificate", None)
    if not der:
        raise TrpRemoteError(
            f"{response.url}: no server certificate", peer_status=None, retryable=False
        )
    return pki.common_name_of(x509.load_der_x509_certificate(der)) or ""


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TrpRemoteError(
                f"{response.url} answered with more than {MAX_BODY_BYTES} bytes",
                peer_status=response.status,
                retryable=False,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _error_text(payload: bytes) -> str:
    """The peer's reason: `{"code", "message"}` JSON or plain text, shortened."""
    text = payload.decode("utf-8", "replace").strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        text = document["message"]
    return (text or "(no reason given)")[:_ERROR_TEXT_LIMIT]
