"""Tests against a real Tryton 8.0 server (see erp_bridge/tryton/README.md)."""
