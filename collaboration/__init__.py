"""The domain: suppliers, memberships, purchase orders, acknowledgements and the audit trail."""
