"""ORDERS and ORDCHG out: a purchase order revision (its canonical document) as an EDIFACT message, and back.

    BGM+220+<order number>+9'  (ORDCHG: BGM+230+<order number>+4')
    DTM+137:<order date>:102'  RFF+ON:<order number>::<revision>'
    NAD+BY+<our id>::92'  NAD+SU+<supplier code>::92'  NAD+ST+<ship-to code>::92'  CUX+2:<currency>:9'
    LIN+<line>[+<1 added | 2 deleted | 3 changed>]+<item>:BP'  IMD+F++:::<description>'
      QTY+21:<quantity>:<unit>'  DTM+2:<requested date>:102'  PRI+AAA:<unit price>'
    UNS+S'  CNT+2:<number of lines>'

ORDCHG carries only the lines the revision added, changed or cancelled. `read_order` turns an
ORDERS back into the canonical document (the round trip is tested).
"""
from __future__ import annotations

import unicodedata
from datetime import date

from django.conf import settings

from edi.codec import REPERTOIRES, Message
from edi.segments import ContentError, date_of, required, split_groups
from edi.syntax_errors import SyntaxErrorCode as Code

LINE_ACTIONS = {"added": "1", "cancelled": "2", "changed": "3", "adopted": "3"}
DIRECTORIES = {"D96A": ("D", "96A", "UN"), "D01B": ("D", "01B", "UN")}


def _date(value: str) -> str:
    return date.fromisoformat(value).strftime("%Y%m%d")


def fit_text(value: str, syntax_id: str) -> str:
    """Free text made writable in a restricted repertoire: accents dropped, upper case for UNOA,
    anything else left outside replaced by a space. Identifiers are never altered."""
    repertoire = REPERTOIRES.get(syntax_id)
    if repertoire is None:
        return value
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    if syntax_id == "UNOA":
        text = text.upper()
    return "".join(c if c in repertoire else " " for c in text)


def order_message_body(document: dict, *, changes: list[dict] | None, syntax_id: str) -> tuple[str, list[tuple[str, list]]]:
    """(message type, body segments) for a new order (ORDERS) or a revision with its changes (ORDCHG)."""
    kind = "ORDERS" if changes is None else "ORDCHG"
    body: list[tuple[str, list]] = [
        ("BGM", ["220" if kind == "ORDERS" else "230", document["number"], "9" if kind == "ORDERS" else "4"]),
        ("DTM", [("137", _date(document["order_date"]), "102")]),
        ("RFF", [("ON", document["number"], "", str(document["revision"]))]),
        ("NAD", ["BY", (settings.EDI_OWN_ID, "", "92")]),
        ("NAD", ["SU", (document["supplier"], "", "92")]),
        ("NAD", ["ST", (document["ship_to"], "", "92")]),
        ("CUX", [("2", document["currency"], "9")]),
    ]
    lines = {line["line"]: line for line in document["lines"]}
    if changes is None:
        chosen = [(line, "") for line in lines.values()]
    else:
        chosen = [(lines[c["line"]], LINE_ACTIONS[c["change"]]) for c in changes
                  if c["line"] is not None and c["line"] in lines and c["change"] in LINE_ACTIONS]
        chosen += [({"line": c["line"]}, "2") for c in changes if c["change"] == "cancelled" and c["line"] not in lines]
    for line, action in sorted(chosen, key=lambda pair: pair[0]["line"]):
        if "item" not in line:  # a cancelled line is named by its number only
            body.append(("LIN", [str(line["line"]), action]))
            continue
        body += [
            ("LIN", [str(line["line"]), action, (line["item"], "BP")]),
            ("IMD", ["F", "", ("", "", "", fit_text(line["description"], syntax_id))]),
            ("QTY", [("21", line["quantity"], line["uom"])]),
            ("DTM", [("2", _date(line["requested_date"]), "102")]),
            ("PRI", [("AAA", line["unit_price"])]),
        ]
    body += [("UNS", ["S"]), ("CNT", [("2", str(len(chosen)))])]
    return kind, body


def read_order(message: Message) -> dict:
    """An ORDERS message as the canonical purchase order document (the inverse of order_message_body)."""
    bgm = required(message, "BGM")
    if bgm.component(1) != "220":
        raise ContentError.at(bgm, Code.VALUE_NOT_SUPPORTED_IN_POSITION, "BGM: not an order (220).")
    head, groups = split_groups(message.body, "LIN")
    parties = {s.component(1): s.component(2) for s in head if s.tag == "NAD"}
    reference = required(message, "RFF", "ON")
    document = {
        "number": bgm.component(2),
        "revision": int(reference.component(1, 4) or 1),
        "supplier": parties.get("SU", ""),
        "currency": required(message, "CUX").component(1, 2),
        "order_date": date_of(required(message, "DTM", "137")).isoformat(),
        "ship_to": parties.get("ST", ""),
        "lines": [],
    }
    for group in groups:
        by_tag = {s.tag: s for s in group}
        document["lines"].append({
            "line": int(group[0].component(1)),
            "item": group[0].component(3),
            "description": by_tag["IMD"].component(3, 4) if "IMD" in by_tag else "",
            "quantity": by_tag["QTY"].component(1, 2),
            "uom": by_tag["QTY"].component(1, 3),
            "unit_price": by_tag["PRI"].component(1, 2),
            "requested_date": date_of(by_tag["DTM"]).isoformat(),
        })
    return document
