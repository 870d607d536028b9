"""Fixtures of the EDI tests: a trading partner with its mailbox, orders to answer, files to send."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from edi.codec import build_interchange
from edi.partners import trading_partner_add

PARTNER_ID = ("4012345000009", "14")
PORTAL_ID = ("PORTAL", "ZZZ")


def day(offset: int) -> str:
    """A date `offset` days from today as CCYYMMDD (answers must not promise dates in the past)."""
    return (date.today() + timedelta(days=offset)).strftime("%Y%m%d")


def interchange(*messages: tuple[str, list], ref: str = "IC0001", sender=PARTNER_ID, recipient=PORTAL_ID,
                syntax_id: str = "UNOC", version: tuple[str, str, str] = ("D", "96A", "UN"), test: bool = False) -> bytes:
    """A partner's interchange with one message per (type, body segments)."""
    return build_interchange(
        sender=sender, recipient=recipient, control_ref=ref, syntax_id=syntax_id, una=True, test=test,
        prepared_at=datetime(2026, 11, 20, 9, 30),
        messages=[(kind, *(version if kind != "CONTRL" else ("2", "2", "UN")), str(index), body)
                  for index, (kind, body) in enumerate(messages, 1)],
    )


def ordrsp(order: str, function: str, *lines: list, revision: str = "", number: str = "RSP-1") -> tuple[str, list]:
    body = [("BGM", ["231", number, function]), ("DTM", [("137", day(0), "102")]),
            ("RFF", [("ON", order, "", revision) if revision else ("ON", order)])]
    for line in lines:
        body += line
    return "ORDRSP", body


@pytest.fixture
def partner(nordwerk, tmp_path):
    partner, _ = trading_partner_add(supplier_code="NORDWERK", edi_id=PARTNER_ID[0], qualifier=PARTNER_ID[1],
                                     mailbox=str(tmp_path / "mailbox"))
    return partner


@pytest.fixture
def alpenguss_partner(alpenguss, tmp_path):
    partner, _ = trading_partner_add(supplier_code="ALPENGUSS", edi_id="7612345000004", qualifier="14",
                                     mailbox=str(tmp_path / "alpenguss"))
    return partner
