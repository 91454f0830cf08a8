"""The one exception tree of travelgate.

Every exception raised on purpose by travelgate derives from `TravelgateError` and ends in
`Error`. Protocol failures derive from `TrisaError` and carry the TRISA `Error.Code` (and
the retry flag the gateway sends with it), so a servicer turns any of them into an
error-only envelope without guessing; API failures carry an HTTP status. TRP failures
derive from `TrpError` and carry the HTTP status a TRP server answers with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeAlias, cast

from travelgate._pb.trisa.api.v1beta1 import errors_pb2

if TYPE_CHECKING:
    import grpc

    from travelgate.ivms101._report import ValidationResult, Violation

Code = errors_pb2.Error.Code
CodeValue: TypeAlias = errors_pb2.Error.Code.ValueType


class TravelgateError(Exception):
    """Base of every error travelgate raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(TravelgateError):
    """A configuration file, key, certificate or environment value is unusable."""


class UsageError(TravelgateError):
    """A command line or argument that cannot be carried out (CLI exit code 2)."""


class StoreError(TravelgateError):
    """The database is unreachable or in an unexpected state."""


class SealedElsewhereError(StoreError):
    """Another process stored the sealed envelope of an outbox row first."""


class WriteConflictError(StoreError):
    """Another process changed the row between our read and our write (its version moved):
    the store runs the whole unit of work again, on what the other process committed."""


class AddressTakenError(StoreError):
    """A deposit address already belongs to another customer."""

    def __init__(self, address: str, owner: str) -> None:
        super().__init__(f"address is already registered to customer {owner!r}")
        self.address = address
        self.owner = owner


# -- inputs: JSON, keys, amounts, encodings -------------------------------------------------


class JsonInputError(TravelgateError):
    """Text that is not a JSON document we accept; `field` names the place when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class JsonFormatError(TravelgateError):
    """Text that is not the protobuf JSON of the expected message."""


class KeyLoadError(TravelgateError):
    """A key or certificate could not be read."""


class InvalidAmountError(TravelgateError):
    """Text that is not an amount; the API answers 422 `invalid_amount` naming the field."""


class EncodingError(TravelgateError, ValueError):
    """Text that is not a valid Base58Check or Bech32 string."""


# -- the domain: policy facts, hold states ----------------------------------------------------


class InvalidFactsError(TravelgateError):
    """A value handed to the policy engine is malformed (float money, naive datetime ...)."""


class IllegalTransitionError(TravelgateError):
    """A hold was asked to move along an edge the state machine does not have.

    The API answers it with 409; the node treats it as a late or duplicate event. `current`
    and `target` are `HoldState`s (`transfers.transition` says why the move is refused).
    """

    def __init__(self, message: str, current: str, target: str) -> None:
        super().__init__(message)
        self.current = current
        self.target = target


# -- IVMS101 ------------------------------------------------------------------------------


class IvmsError(TravelgateError):
    """Base of the errors raised by the IVMS101 package."""


class IvmsParseError(IvmsError):
    """The input cannot be read at all (rule PARSE); maps to UNPARSEABLE_IDENTITY (151)."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(f"IVMS101 identity cannot be parsed: {violation.message}")
        self.violation = violation

    def to_trisa(self) -> TrisaError:
        reason = f"IVMS101: identity payload cannot be parsed: {self.violation.message}"
        return UnparseableIdentityError(reason[:1000], retry=True)


class IvmsInvalidError(IvmsError):
    """A document that must be valid is not; `result` holds every violation."""

    def __init__(self, message: str, result: ValidationResult) -> None:
        super().__init__(message)
        self.result = result


class IvmsEncodeError(IvmsError):
    """The model holds something the target encoding cannot represent."""


class ProtobufEncodeError(TravelgateError):
    """The model holds something the protobuf cannot carry."""


# -- screening and wallet proofs ------------------------------------------------------------


class ScreeningListError(TravelgateError):
    """A sanctions list file cannot be read: bad format, hostile XML, too large, bad row."""


class InvalidProofError(TravelgateError):
    """A wallet ownership proof does not show control of the address (API: 422 invalid_proof)."""


class TrisaError(TravelgateError):
    """A protocol failure that travels to the peer as a TRISA `Error`.

    Subclasses fix `code` and the default `retry`; the gateway always sends `retry`
    explicitly (TRISA Error.Code), never derived from the code.
    """

    code: CodeValue = Code.BAD_REQUEST
    default_retry: ClassVar[bool] = False

    def __init__(self, message: str, *, retry: bool | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.retry = self.default_retry if retry is None else retry
        if code is not None:
            self.code = cast(CodeValue, code)

    @property
    def code_name(self) -> str:
        """Canonical (first declared) name of the TRISA error code."""
        return Code.Name(self.code)

    def to_proto(self) -> errors_pb2.Error:
        return errors_pb2.Error(code=self.code, message=self.message, retry=self.retry)

    def __str__(self) -> str:
        return f"{self.code_name}: {self.message}"


class BadRequestError(TrisaError):
    """Malformed envelope structure (TRISA receive-side checks)."""

    code = Code.BAD_REQUEST


class InvalidEnvelopeIdError(BadRequestError):
    """The envelope id is missing or not a UUID: answered as gRPC INVALID_ARGUMENT."""


class ForbiddenError(TrisaError):
    code = Code.FORBIDDEN


class NoSigningKeyError(TrisaError):
    code = Code.NO_SIGNING_KEY
    default_retry = True


class InvalidSignatureError(TrisaError):
    code = Code.INVALID_SIGNATURE


class InvalidKeyError(TrisaError):
    code = Code.INVALID_KEY


class EnvelopeDecodeError(TrisaError):
    code = Code.ENVELOPE_DECODE_FAIL


class UnhandledAlgorithmError(TrisaError):
    code = Code.UNHANDLED_ALGORITHM


class UnparseableIdentityError(TrisaError):
    code = Code.UNPARSEABLE_IDENTITY
    default_retry = True


class UnparseableTransactionError(TrisaError):
    code = Code.UNPARSEABLE_TRANSACTION
    default_retry = True


class MissingFieldsError(TrisaError):
    code = Code.MISSING_FIELDS
    default_retry = True


class IncompleteIdentityError(TrisaError):
    code = Code.INCOMPLETE_IDENTITY
    default_retry = True


class ValidationError(TrisaError):
    code = Code.VALIDATION_ERROR
    default_retry = True


class RejectedError(TrisaError):
    """A compliance decision against the transfer (codes 50-99), never retried."""

    code = Code.REJECTED


class NoPayloadError(TravelgateError):
    """A payload was asked of an error envelope, which carries none to open."""


# -- talking to peers (TRISA) -------------------------------------------------------------


class PeerIdentityError(TravelgateError):
    """The caller's certificate does not name a usable peer."""


class RefusedError(TravelgateError):
    """A call admission turns away, with the gRPC status to answer it with."""

    def __init__(self, status: grpc.StatusCode, reason: str, message: str, peer: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.peer = peer


class PeerUnavailableError(TravelgateError):
    """No envelope came back: transport failure, deadline or a gRPC error status."""

    def __init__(self, peer: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{peer}: {code.name}: {details}")
        self.peer = peer
        self.status = code
        self.details = details


class UnknownPeerError(TravelgateError):
    """The counterparty is not in our directory (or is blocked)."""


class InvalidReplyError(TravelgateError):
    """A reply came back but cannot be trusted: wrong id, not sealed to us, undecodable."""


class ConversationNotFoundError(TravelgateError):
    """An error envelope for a conversation we never had with this peer (gRPC NOT_FOUND)."""


class DirectoryUnavailableError(TravelgateError):
    """The directory did not answer usefully: unreachable, slow, or a transport error."""


class DirectoryRecordError(TravelgateError):
    """The directory answered with a record we cannot use (bad certificate, endpoint...)."""


# -- the outbox -----------------------------------------------------------------------------


class PeerBusyError(TravelgateError):
    """The peer answered a service error with retry=true: deliver again later."""


class WebhookError(TravelgateError):
    """The back office did not take a webhook (non-2xx or unreachable)."""


_BY_CODE: dict[int, type[TrisaError]] = {
    cls.code: cls
    for cls in (
        BadRequestError,
        ForbiddenError,
        NoSigningKeyError,
        InvalidSignatureError,
        InvalidKeyError,
        EnvelopeDecodeError,
        UnhandledAlgorithmError,
        UnparseableIdentityError,
        UnparseableTransactionError,
        MissingFieldsError,
        IncompleteIdentityError,
        ValidationError,
        RejectedError,
    )
}


def trisa_error(code: int, message: str, *, retry: bool) -> TrisaError:
    """Build the most specific TrisaError for any TRISA code (e.g. from a policy rule)."""
    cls = _BY_CODE.get(code, TrisaError)
    return cls(message, retry=retry, code=code)


# -- requests the application services refuse ---------------------------------------------
# The services know no HTTP: they raise these, and the internal API alone turns each kind
# into its status (api/_errors.py). `code` is the stable error code a client reads, `field`
# the input at fault.


class RequestError(TravelgateError):
    """A request the application services refuse, with a stable `code` and its `field`."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class InvalidRequestError(RequestError):
    """The content of a request is wrong: a field missing, malformed or not allowed."""


class BadParameterError(RequestError):
    """A parameter beside the content (a page cursor, a state filter) is malformed."""


class NotFoundError(RequestError):
    """The request names a record that does not exist."""


class ConflictError(RequestError):
    """The record exists but its state does not allow what the request asks."""


class NotPermittedError(RequestError):
    """The caller may not do this (e.g. decide a review they opened, four eyes)."""


class ApiError(TravelgateError):
    """An internal-API failure answered as `{"error": {"code", "message", "field"}}`."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field


class TrpError(TravelgateError):
    """A TRP (OpenVASP Travel Rule Protocol) failure; `status` is the HTTP status a TRP
    server answers it with (TRP v3), so only the HTTP adapter turns it into a response.
    """

    status: ClassVar[int] = 400


class TravelAddressError(TrpError):
    """A Travel Address, LNURL or TRP target that cannot be decoded or encoded (TRP v3)."""


class TrpHeaderError(TrpError):
    """A missing or unsupported `api-version`, or a missing `request-identifier` (400)."""


class TrpBodyError(TrpError):
    """A body that is not one well-formed JSON object of the message's shape (400)."""


class TrpMediaTypeError(TrpError):
    """A `content-type` other than application/json (415)."""

    status = 415


class TrpTooLargeError(TrpError):
    """A body over the size limit (413)."""

    status = 413


class TrpInvalidError(TrpError):
    """A well-formed inquiry whose content is unacceptable (422): a required field
    missing, a zero amount, a callback that is not an https URL, an invalid IVMS101 identity.
    """

    status = 422


class TrpExtensionError(TrpInvalidError):
    """An inquiry that is unusable without an extension this node does not implement."""


class TrpNotFoundError(TrpError):
    """No Travel Address or callback of ours has this token (404)."""

    status = 404


class TrpForbiddenError(TrpError):
    """The client certificate names a counterparty we do not deal with (403)."""

    status = 403


class TrpRemoteError(TrpError):
    """The counterparty answered a TRP request with a non-2xx status (`peer_status`), or
    could not be reached or verified (`peer_status` None); `retryable` says whether resending
    the same body may help (TRP v3).
    """

    def __init__(self, message: str, *, peer_status: int | None, retryable: bool) -> None:
        super().__init__(message)
        self.peer_status = peer_status
        self.retryable = retryable


# -- sunrise: counterparties reached by email -----------------------------------------------


class EmailDeliveryError(TravelgateError):
    """The SMTP server could not be reached or did not take the message."""


class LinkGoneError(TravelgateError):
    """The link cannot be used: `status` 404 (unknown) or 410 (used, expired, withdrawn)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title


class WrongCodeError(TravelgateError):
    """The one-time code entered is not the one emailed (`left` tries remain)."""

    def __init__(self, left: int) -> None:
        super().__init__(f"that code is not the one emailed; {left} tries left")
        self.left = left


class EmailDisabledError(TravelgateError):
    """An email is due but this node has no SMTP server configured."""
