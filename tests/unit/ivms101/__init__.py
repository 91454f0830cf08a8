"""Unit tests of travelgate.ivms101."""
