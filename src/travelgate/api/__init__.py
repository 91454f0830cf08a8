"""The internal HTTP API (aiohttp) for the exchange's withdrawal and deposit services."""

from travelgate.api._app import ApiServices, build_app
from travelgate.api._openapi import openapi_document
from travelgate.api._server import ApiListener
from travelgate.api._shed import ApiAdmission

__all__ = ["ApiAdmission", "ApiListener", "ApiServices", "build_app", "openapi_document"]
