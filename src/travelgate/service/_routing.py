"""Protocol routing, in one place: which counterparty a withdrawal goes to, and how.

A Travel Address -> TRP (the counterparty is named by the server certificate once it
answers; until then by the host the address names). A self-hosted destination -> none.
A named TRISA VASP (peers.toml, else the TRISA directory) -> TRISA. A named peer with an
email and no endpoint -> EMAIL (sunrise: a one-time link to its compliance address). An
address listed under a peer -> that peer's protocol. Anything else is an unknown
counterparty, for the policy's rules. A named VASP the directory could not be asked
about (down, slow) is not reachable: the policy's rules for an unreachable counterparty
apply, and the counterparty says why (`directory_problem`), so a hold never clears on a
guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from travelgate.service._requests import SELF_HOSTED, WithdrawalRequest
from travelgate.transfers import CounterpartyKind
from travelgate.trisa import Directory, Peer, Resolution

TRISA = "trisa"
TRP = "trp"
EMAIL = "email"


@dataclass(frozen=True)
class Counterparty:
    kind: CounterpartyKind
    name: str | None
    peer: Peer | None
    travel_address: str | None = None
    # The TRISA directory could not say whether it knows this VASP (down, slow).
    directory_problem: str | None = None
    # The TRISA directory answered, but with a record we cannot use (revoked, expired...).
    directory_detail: str | None = None

    @property
    def source(self) -> str | None:
        """Where the TRISA peer came from: "peers" (peers.toml) or "directory" (GDS)."""
        return self.peer.source if self.peer is not None else None

    @property
    def api_kind(self) -> str:
        """The kind as the API spells it: vasp | self_hosted | unknown."""
        return self.kind.value.replace("-", "_")

    @property
    def protocol(self) -> str | None:
        if self.travel_address is not None:
            return TRP
        if self.peer is None:
            return None
        return EMAIL if self.peer.email and not self.peer.endpoint else TRISA

    @property
    def reachable(self) -> bool:
        """An exchange can be started with it."""
        return self.protocol is not None


async def resolve_route(request: WithdrawalRequest, directory: Directory) -> Counterparty:
    """`route`, after asking the TRISA directory about a named VASP peers.toml lacks."""
    named = _named_vasp(request)
    if named is None:
        return route(request, directory)
    resolution = await directory.resolve(named)
    return route(request, directory, resolution)


def _named_vasp(request: WithdrawalRequest) -> str | None:
    if request.travel_address is not None or request.destination_kind == "self_hosted":
        return None
    if request.beneficiary_vasp in (None, SELF_HOSTED):
        return None
    return request.beneficiary_vasp


def route(
    request: WithdrawalRequest, directory: Directory, resolution: Resolution | None = None
) -> Counterparty:
    """The counterparty of a withdrawal and the protocol that reaches it.

    Without `resolution` the directory is read as it stands (no network): what the TRISA
    directory last said counts, as for a re-evaluation of a hold already routed."""
    if request.travel_address is not None:
        from travelgate.trp import target_url

        host = urlsplit(target_url(request.travel_address)).hostname or None
        return Counterparty(CounterpartyKind.VASP, host, None, request.travel_address)
    if request.destination_kind == "self_hosted" or request.beneficiary_vasp == SELF_HOSTED:
        return Counterparty(CounterpartyKind.SELF_HOSTED, SELF_HOSTED, None)
    if request.beneficiary_vasp is not None:
        if resolution is None:
            resolution = Resolution(directory.get(request.beneficiary_vasp))
        peer = resolution.peer
        usable = peer if peer is not None and not peer.blocked else None
        return Counterparty(
            CounterpartyKind.VASP,
            request.beneficiary_vasp,
            usable,
            directory_problem=resolution.unavailable,
            directory_detail=resolution.detail,
        )
    peer = directory.for_address(request.address) if request.address else None
    if peer is not None and not peer.blocked:
        return Counterparty(CounterpartyKind.VASP, peer.name, peer)
    return Counterparty(CounterpartyKind.UNKNOWN, None, None)
