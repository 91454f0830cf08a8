"""travelgate: a travel-rule gateway (TRISA node, IVMS101 validation, withdrawal holds)."""

__version__ = "0.1.0"
