"""The errors of screening and wallet proofs, in the one exception tree of travelgate."""

from __future__ import annotations

from travelgate.errors import TravelgateError


class ScreeningListError(TravelgateError):
    """A sanctions list file cannot be read: bad format, hostile XML, too large, bad row."""


class InvalidProofError(TravelgateError):
    """A wallet ownership proof does not show control of the address (API: 422 invalid_proof)."""
