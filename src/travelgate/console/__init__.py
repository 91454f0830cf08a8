"""The compliance console: server-rendered pages at `/console/` on the API listener.

People sign in with email, password and TOTP (`service.sign_in`); observers read,
compliance also decides reviews, cancels withdrawals and exports records, admins also
manage people and API keys. Every action goes through the same service as the internal
API and is audited.
"""

from travelgate.console._app import build_console
from travelgate.console._context import ConsoleServices

__all__ = ["ConsoleServices", "build_console"]
