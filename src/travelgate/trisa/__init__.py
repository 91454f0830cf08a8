"""The TRISA peer: grpc.aio server and client, mTLS identity, keys, directory, exchanges.

Protocol: TRISA v1beta1 (transport security and peer identity, KeyExchange, the Transfer
and TransferStream semantics of the TRISA protocol documentation). The servicers are thin:
they identify the peer and hand the envelope to `InboundService`; `OutboundService` sends
our own transfers.
"""

from travelgate.errors import (
    ConversationNotFoundError,
    DirectoryRecordError,
    DirectoryUnavailableError,
    InvalidReplyError,
    PeerIdentityError,
    PeerUnavailableError,
    RefusedError,
    UnknownPeerError,
)
from travelgate.trisa._admission import Admission, AdmissionSettings, Pool
from travelgate.trisa._client import ClientSettings, PeerKeys, TrisaClient, legacy_error
from travelgate.trisa._credentials import Credentials, common_name, load_credentials
from travelgate.trisa._directory import (
    DIRECTORY,
    PEERS,
    Directory,
    Peer,
    Resolution,
    format_pin,
    parse_pin,
    spki_digest,
)
from travelgate.trisa._exchange import (
    BENEFICIARY,
    FINAL_STATES,
    ORIGINATOR,
    Action,
    Decider,
    ExchangeHooks,
    Inbound,
    NoHooks,
    PeerMessage,
    Verdict,
    match_customer,
    state_name,
)
from travelgate.trisa._gds import (
    DirectoryRecord,
    GdsClient,
    GdsDirectory,
    gds_client,
    gzip_chain,
    record_from_reply,
)
from travelgate.trisa._inbound import (
    InboundService,
    InboundSettings,
    ReplyHook,
    ivms_check,
    message_key,
)
from travelgate.trisa._outbound import OutboundService, Prepared, SendResult
from travelgate.trisa._replies import VaspInfo, person_from_json
from travelgate.trisa._server import (
    RunningServer,
    ServerState,
    TrisaNetworkServicer,
    peer_name,
    start_server,
    stop_server,
)

__all__ = [
    "BENEFICIARY",
    "DIRECTORY",
    "FINAL_STATES",
    "ORIGINATOR",
    "PEERS",
    "Action",
    "Admission",
    "AdmissionSettings",
    "ClientSettings",
    "ConversationNotFoundError",
    "Credentials",
    "Decider",
    "Directory",
    "DirectoryRecord",
    "DirectoryRecordError",
    "DirectoryUnavailableError",
    "ExchangeHooks",
    "GdsClient",
    "GdsDirectory",
    "Inbound",
    "InboundService",
    "InboundSettings",
    "InvalidReplyError",
    "NoHooks",
    "OutboundService",
    "Peer",
    "PeerIdentityError",
    "PeerKeys",
    "PeerMessage",
    "PeerUnavailableError",
    "Pool",
    "Prepared",
    "RefusedError",
    "ReplyHook",
    "Resolution",
    "RunningServer",
    "SendResult",
    "ServerState",
    "TrisaClient",
    "TrisaNetworkServicer",
    "UnknownPeerError",
    "VaspInfo",
    "Verdict",
    "common_name",
    "format_pin",
    "gds_client",
    "gzip_chain",
    "ivms_check",
    "legacy_error",
    "load_credentials",
    "match_customer",
    "message_key",
    "parse_pin",
    "peer_name",
    "person_from_json",
    "record_from_reply",
    "spki_digest",
    "start_server",
    "state_name",
    "stop_server",
]
