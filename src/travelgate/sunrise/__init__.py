"""Sunrise: travel-rule exchanges with counterparties on no travel-rule network, by email.

A peers.toml entry with an `email` and no `endpoint` names such a counterparty. A
withdrawal to it waits in `awaiting_reply` while the outbox emails its compliance address
a one-time link (and, when asked, a one-time code apart); the page behind the link shows
what the travel rule requires the beneficiary VASP to see and takes one decision, which
moves the hold through the same reply policy as a TRISA or TRP answer.
"""

from travelgate.errors import EmailDeliveryError, EmailDisabledError
from travelgate.sunrise._mail import Mailer, read_password
from travelgate.sunrise._pages import add_routes
from travelgate.sunrise._service import LINK_LIFETIME, MAX_CODE_TRIES, OUTBOX_KIND, SunriseService

__all__ = [
    "LINK_LIFETIME",
    "MAX_CODE_TRIES",
    "OUTBOX_KIND",
    "EmailDeliveryError",
    "EmailDisabledError",
    "Mailer",
    "SunriseService",
    "add_routes",
    "read_password",
]
