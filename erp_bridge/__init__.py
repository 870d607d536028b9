"""The ERP side: inbound ERP API, the outbox and its relay, and the connectors that deliver events."""
