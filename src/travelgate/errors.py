"""The one exception tree of travelgate.

Every exception raised on purpose by travelgate derives from `TravelgateError` and ends in
`Error`. Protocol failures derive from `TrisaError` and carry the TRISA `Error.Code` (and
the retry flag the gateway sends with it), so a servicer turns any of them into an
error-only envelope without guessing; API failures carry an HTTP status. TRP failures
derive from `TrpError` and carry the HTTP status a TRP server answers with.
"""

from __future__ import annotations

from typing import ClassVar, TypeAlias, cast

from travelgate._pb.trisa.api.v1beta1 import errors_pb2

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


class WriteConflictError(StoreError):
    """Another process changed the row between our read and our write (its version moved):
    the store runs the whole unit of work again, on what the other process committed."""


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
