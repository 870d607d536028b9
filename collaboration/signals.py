"""Signals the domain sends for other channels to follow, so that it never imports them.

`purchase_orders_published` is sent inside the transaction that stored new orders or a new
revision; a receiver that writes rows (the EDI channel queues ORDERS / ORDCHG) writes them in
that same transaction, so the order and its outbound message are stored together or not at all.
"""
from django.dispatch import Signal

# Arguments: published = list of (PurchaseOrder, canonical document dict, changes or None for a new order).
purchase_orders_published = Signal()
