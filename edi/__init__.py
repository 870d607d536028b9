"""The EDIFACT channel: trading partners, interchanges, codec around pydifact, mappers, CONTRL, mailbox transport.

It calls `collaboration.services` like every other channel; the domain never imports it.
"""
