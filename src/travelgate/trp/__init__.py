"""TRP, the OpenVASP Travel Rule Protocol v3 (OpenVASP): Travel Addresses
and LNURL, the wire model of every TRP message, and the pieces a TRP server and client share.

Pure and synchronous except `TrpClient` (aiohttp, mutual TLS): parsing raises the
`TrpError` subclass whose `status` is the HTTP answer, so an HTTP adapter never guesses.

Typical use on the beneficiary side::

    headers = parse_request_headers(request.headers)        # 400 on a bad api-version
    inquiry = parse_inquiry(await request.read(), profile="standard")   # 400 / 413 / 422
    body = emit(Acknowledgement())                            # {"version":"3.1.0"}
"""

from __future__ import annotations

from travelgate.trp._client import (
    DEFAULT_TIMEOUT,
    RETRYABLE_STATUSES,
    InquiryAnswer,
    PeerReply,
    TrpClient,
)
from travelgate.trp._discovery import (
    DISCOVERY_PATHS,
    VENDOR,
    Discovery,
    ExtensionsInfo,
    IdentityInfo,
    VersionInfo,
    discovery_json,
    emit_discovery,
    emit_uptime,
    parse_extensions,
    parse_identity,
    parse_uptime,
    parse_version,
)
from travelgate.trp._headers import (
    ACCEPTED_API_VERSIONS,
    API_EXTENSIONS_HEADER,
    API_VERSION,
    API_VERSION_HEADER,
    REQUEST_IDENTIFIER_HEADER,
    RequestHeaders,
    is_semver,
    new_request_identifier,
    parse_extension_names,
    parse_request_headers,
    request_headers,
    response_headers,
)
from travelgate.trp._json import (
    JSON_CONTENT_TYPE,
    MAX_BODY_BYTES,
    check_content_type,
    dumps,
    parse_object,
    plain_decimal,
)
from travelgate.trp._lnurl import decode_lnurl, encode_lnurl, is_lnurl
from travelgate.trp._messages import (
    SUPPORTED_EXTENSIONS,
    Acknowledgement,
    Approval,
    Asset,
    Cancellation,
    Confirmation,
    ConfirmationMessage,
    Inquiry,
    InquiryResponse,
    Message,
    Rejection,
    Resolution,
    emit,
    parse_confirmation,
    parse_inquiry,
    parse_inquiry_response,
    parse_resolution,
    to_json,
    unsupported_extensions,
    validate_identity,
)
from travelgate.trp._server import (
    RunningTrpServer,
    TrpHandler,
    build_trp_app,
    start_trp_server,
    stop_trp_server,
)
from travelgate.trp._targets import inquiry_url, target_url
from travelgate.trp._tls import client_ssl_context, server_ssl_context
from travelgate.trp._traddr import (
    check_bare_url,
    decode_travel_address,
    encode_travel_address,
    make_travel_address,
    reference_parse_problem,
    travel_address_url,
    valid_host,
)

__all__ = [
    "ACCEPTED_API_VERSIONS",
    "API_EXTENSIONS_HEADER",
    "API_VERSION",
    "API_VERSION_HEADER",
    "DEFAULT_TIMEOUT",
    "DISCOVERY_PATHS",
    "JSON_CONTENT_TYPE",
    "MAX_BODY_BYTES",
    "REQUEST_IDENTIFIER_HEADER",
    "RETRYABLE_STATUSES",
    "SUPPORTED_EXTENSIONS",
    "VENDOR",
    "Acknowledgement",
    "Approval",
    "Asset",
    "Cancellation",
    "Confirmation",
    "ConfirmationMessage",
    "Discovery",
    "ExtensionsInfo",
    "IdentityInfo",
    "Inquiry",
    "InquiryAnswer",
    "InquiryResponse",
    "Message",
    "PeerReply",
    "Rejection",
    "RequestHeaders",
    "Resolution",
    "RunningTrpServer",
    "TrpClient",
    "TrpHandler",
    "VersionInfo",
    "build_trp_app",
    "check_bare_url",
    "check_content_type",
    "client_ssl_context",
    "decode_lnurl",
    "decode_travel_address",
    "discovery_json",
    "dumps",
    "emit",
    "emit_discovery",
    "emit_uptime",
    "encode_lnurl",
    "encode_travel_address",
    "inquiry_url",
    "is_lnurl",
    "is_semver",
    "make_travel_address",
    "new_request_identifier",
    "parse_confirmation",
    "parse_extension_names",
    "parse_extensions",
    "parse_identity",
    "parse_inquiry",
    "parse_inquiry_response",
    "parse_object",
    "parse_request_headers",
    "parse_resolution",
    "parse_uptime",
    "parse_version",
    "plain_decimal",
    "reference_parse_problem",
    "request_headers",
    "response_headers",
    "server_ssl_context",
    "start_trp_server",
    "stop_trp_server",
    "target_url",
    "to_json",
    "travel_address_url",
    "unsupported_extensions",
    "valid_host",
    "validate_identity",
]
