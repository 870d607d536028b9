"""Tryton as the real ERP: a Django-free REST client (client.py) and a local demo server (demo_erp.py)."""
