"""EDIFACT codec: splitting, decoding, envelope checks located by segment, and the outbound builder."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from edi.codec import Separators, UnencodableCharacter, build_interchange, parse_file, split_segment
from edi.syntax_errors import MEANINGS, SyntaxErrorCode as Code
from tests.support.fuzzing import examples

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def only(data: bytes):
    [interchange] = parse_file(data)
    return interchange


def codes(interchange) -> list[tuple[str, int, str]]:
    return [(str(e.code), e.position, e.tag) for e in interchange.errors]


def simple(*, unt_count="3", unt_ref="M1", unz_count="1", unz_ref="IC1", syntax="UNOC", tail=True) -> bytes:
    text = (
        f"UNB+{syntax}:3+SUPPLIER:ZZ+BUYER:ZZ+250314:1000+IC1'"
        "UNH+M1+ORDRSP:D:96A:UN'"
        "BGM+231+PO1+4'"
        f"UNT+{unt_count}+{unt_ref}'"
    )
    if tail:
        text += f"UNZ+{unz_count}+{unz_ref}'"
    return text.encode("ascii")


# --------------------------------------------------------------------------- reading good files


def test_ordrsp_with_una_reads_envelope_and_message_identifier():
    ic = only(fixture("ordrsp_d96a_una_release.edi"))

    assert ic.errors == []
    assert ic.has_una
    assert (ic.sender_id, ic.sender_qualifier) == ("4012345000009", "14")
    assert (ic.recipient_id, ic.recipient_qualifier) == ("4098765000002", "14")
    assert (ic.syntax_id, ic.syntax_version, ic.control_ref) == ("UNOC", "3", "ORS0001")
    assert ic.application_ref == "ORDRSP"
    assert ic.prepared_at == datetime(2025, 3, 14, 9, 15)
    [message] = ic.messages
    assert (message.type, message.version, message.release, message.agency, message.ref) == ("ORDRSP", "D", "96A", "UN", "1")
    assert message.association_code == "EAN005"
    assert message.first_segment_number == 2
    assert [s.tag for s in message.segments] == ["UNH", "BGM", "DTM", "FTX", "RFF", "NAD", "LIN", "QTY", "UNS", "UNT"]
    assert message.segments[2].elements == (("137", "20250314", "102"),)


def test_release_character_escapes_terminator_separators_and_itself():
    ic = only(fixture("ordrsp_d96a_una_release.edi"))

    ftx = next(s for s in ic.messages[0].segments if s.tag == "FTX")
    assert ftx.elements == ("AAI", "", "", "Supplier's note: price 10+2 ? confirmed")
    assert ftx.position == 5


def test_crlf_between_segments_is_tolerated_and_kept_in_raw():
    data = fixture("ordrsp_d96a_una_release.edi")
    ic = only(data)

    assert b"\r\n" in data
    assert ic.raw == data.rstrip(b"\r\n")
    assert ic.segment_count == 12


def test_back_to_back_interchanges_are_split_with_exact_raw_slices():
    data = fixture("two_interchanges.edi")

    first, second = parse_file(data)

    assert first.control_ref == "IC1" and second.control_ref == "IC2"
    assert first.raw == data[: data.index(b"\n")]
    assert second.raw == data[data.index(b"\n") + 1 :]
    assert data[second.offset : second.offset + len(second.raw)] == second.raw
    assert first.errors == [] and second.errors == []


def test_second_interchange_uses_its_own_una_separators_and_release():
    _, second = parse_file(fixture("two_interchanges.edi"))

    assert second.separators == Separators(component="|", element="*", decimal=".", release="#", repetition=" ", terminator="~")
    assert second.syntax_id == "UNOB"
    assert [m.ref for m in second.messages] == ["M1", "M2"]
    assert second.messages[0].body[0].elements == ("351", "DN*1", "9")
    assert second.messages[0].type == "DESADV"


def test_functional_groups_are_read_and_checked():
    ic = only(fixture("groups.edi"))

    assert ic.errors == []
    assert [g.ref for g in ic.groups] == ["G1", "G2"]
    assert [m.ref for m in ic.groups[0].messages] == ["M1", "M2"]
    assert [m.group_ref for m in ic.messages] == ["G1", "G1", "G2"]
    assert ic.groups[1].function_id == "INVOIC"


def test_une_count_and_reference_mismatch_are_located_at_une():
    data = fixture("groups.edi").replace(b"UNE+2+G1'", b"UNE+3+GX'")

    ic = only(data)

    assert codes(ic) == [("29", 9, "UNE"), ("28", 9, "UNE")]
    assert ic.errors[0].group_ref == "G1"


def test_unz_counts_groups_when_groups_are_used():
    data = fixture("groups.edi").replace(b"UNZ+2+GRP1'", b"UNZ+3+GRP1'")

    assert codes(only(data)) == [("29", 15, "UNZ")]


def test_message_outside_groups_next_to_groups_is_mixing():
    data = fixture("groups.edi").replace(b"UNZ+2+GRP1'", b"UNH+M9+ORDRSP:D:96A:UN'UNT+2+M9'UNZ+2+GRP1'")

    assert ("30", 15, "UNH") in codes(only(data))


# --------------------------------------------------------------------------- charsets


def test_unoc_decodes_latin1_umlauts():
    ic = only(fixture("unoc_umlauts.edi"))

    assert ic.errors == []
    ftx = ic.messages[0].body[1]
    assert ftx.element(4) == "Größe Änderung für Müller"


def test_same_latin1_bytes_declared_unoy_are_invalid_characters_at_the_segment():
    data = fixture("unoc_umlauts.edi").replace(b"UNOC", b"UNOY")

    ic = only(data)

    assert codes(ic) == [("21", 4, "FTX")]
    assert ic.errors[0].message_ref == "1"
    assert ic.errors[0].position_in_message == 3
    assert ic.messages[0].body[1].tag == "FTX"


def test_unoy_decodes_utf8():
    data = fixture("unoc_umlauts.edi").decode("latin-1").replace("UNOC", "UNOY").encode("utf-8")

    ic = only(data)

    assert ic.errors == []
    assert ic.messages[0].body[1].element(4) == "Größe Änderung für Müller"


def test_unoa_lowercase_letters_are_invalid_characters_at_the_segment():
    ic = only(fixture("unoa_lowercase.edi"))

    assert codes(ic) == [("21", 4, "FTX")]
    assert "'e'" in ic.errors[0].text


def test_unob_allows_lowercase_letters():
    data = fixture("unoa_lowercase.edi").replace(b"UNOA", b"UNOB")

    assert only(data).errors == []


def test_unknown_syntax_identifier_is_reported_as_not_supported():
    assert codes(only(simple(syntax="UNOZ"))) == [("2", 1, "UNB")]


# --------------------------------------------------------------------------- envelope checks


def test_valid_simple_interchange_has_no_errors():
    assert only(simple()).errors == []


def test_wrong_unt_count_is_control_count_error_at_unt():
    ic = only(simple(unt_count="7"))

    assert codes(ic) == [("29", 4, "UNT")]
    assert ic.errors[0].message_ref == "M1"
    assert ic.errors[0].position_in_message == 3


def test_non_numeric_unt_count_is_invalid_type_of_characters():
    assert codes(only(simple(unt_count="X"))) == [("37", 4, "UNT")]


def test_unt_reference_differing_from_unh_is_references_do_not_match():
    assert codes(only(simple(unt_ref="M2"))) == [("28", 4, "UNT")]


def test_wrong_unz_count_is_control_count_error_at_unz():
    assert codes(only(simple(unz_count="2"))) == [("29", 5, "UNZ")]


def test_unz_reference_differing_from_unb_is_references_do_not_match():
    assert codes(only(simple(unz_ref="IC9"))) == [("28", 5, "UNZ")]


def test_missing_unz_at_end_of_file_is_reported_after_last_segment():
    ic = only(simple(tail=False))

    assert codes(ic) == [("13", 5, "UNZ")]
    assert not ic.complete
    assert ic.messages[0].complete


def test_missing_unz_before_next_unb_splits_interchanges_anyway():
    data = simple(tail=False) + simple()

    first, second = parse_file(data)

    assert codes(first) == [("13", 5, "UNZ")]
    assert second.errors == []
    assert first.raw + second.raw == data


def test_missing_unt_is_found_at_the_next_unh():
    data = (
        b"UNB+UNOC:3+S:ZZ+R:ZZ+250314:1000+IC1'"
        b"UNH+M1+ORDRSP:D:96A:UN'BGM+231+PO1+4'"
        b"UNH+M2+ORDRSP:D:96A:UN'BGM+231+PO2+4'UNT+3+M2'"
        b"UNZ+2+IC1'"
    )

    ic = only(data)

    assert codes(ic) == [("13", 4, "UNT")]
    assert ic.errors[0].message_ref == "M1"
    assert [m.complete for m in ic.messages] == [False, True]


def test_missing_unt_before_unz_is_reported_at_unz():
    data = b"UNB+UNOC:3+S:ZZ+R:ZZ+250314:1000+IC1'UNH+M1+ORDRSP:D:96A:UN'BGM+231+PO1+4'UNZ+1+IC1'"

    assert codes(only(data)) == [("13", 4, "UNT")]


def test_interchange_without_messages_is_lower_level_empty():
    data = b"UNB+UNOC:3+S:ZZ+R:ZZ+250314:1000+IC1'UNZ+0+IC1'"

    assert codes(only(data)) == [("32", 2, "UNZ")]


def test_data_segment_outside_a_message_is_invalid_occurrence():
    data = b"UNB+UNOC:3+S:ZZ+R:ZZ+250314:1000+IC1'BGM+231+PO1+4'UNH+M1+ORDRSP:D:96A:UN'UNT+2+M1'UNZ+1+IC1'"

    assert codes(only(data)) == [("33", 2, "BGM")]


def test_missing_mandatory_unb_parts_and_bad_date_are_reported_at_unb():
    ic = only(b"UNB+UNOC:3+S:ZZ++251399:1000+IC1'UNH+M1+ORDRSP:D:96A:UN'UNT+2+M1'UNZ+1+IC1'")

    assert codes(ic) == [("13", 1, "UNB"), ("12", 1, "UNB")]


def test_invalid_una_service_characters_are_reported():
    data = b"UNA::.? 'UNB:UNOC:3'"

    ic = parse_file(data)[0]

    assert ("20", 0, "UNA") in codes(ic)


def test_test_indicator_is_read():
    data = b"UNB+UNOC:3+S:ZZ+R:ZZ+250314:1000+IC1++APP++1++1'UNH+M1+ORDRSP:D:96A:UN'UNT+2+M1'UNZ+1+IC1'"

    ic = only(data)

    assert ic.is_test and ic.ack_requested and ic.application_ref == "APP"


# --------------------------------------------------------------------------- garbage never raises


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n  \n",
        bytes.fromhex("89504e470d0a1a0a0000000d49484452") + os.urandom(200),
        os.urandom(4096),
        b"UNA",
        b"UNB",
        b"UNB+",
        b"UNA:+.? 'UNB+UNOY:3+S+R+250314:1000+1'UNH+1+ORDRSP:D:96A:UN'FTX+\xff\xfe'",
        b"UNB+UNOC:3+S+R+250314:1000+1'UNH+1+ORDRSP:D:96A:UN'FTX+open?",
    ],
    ids=["empty", "whitespace", "png", "random", "una-only", "unb-only", "unb-cut", "bad-utf8-no-trailer", "dangling-release"],
)
def test_garbage_gives_errors_not_exceptions(data):
    interchanges = parse_file(data)

    assert interchanges
    assert all(ic.errors for ic in interchanges)
    assert all(isinstance(e.code, Code) and e.text for ic in interchanges for e in ic.errors)


def test_png_is_reported_as_missing_unb_with_its_bytes_kept():
    data = bytes.fromhex("89504e470d0a1a0a0000000d49484452")

    ic = only(data)

    assert codes(ic) == [("13", 0, "UNB")]
    assert ic.raw == data


def test_leading_junk_is_kept_apart_from_the_interchange_that_follows():
    junk, ic = parse_file(b"GARBAGE\n" + simple())

    assert codes(junk) == [("13", 0, "UNB")]
    assert junk.raw == b"GARBAGE\n"
    assert ic.errors == []


def test_random_bytes_fuzz_never_raises():
    import random

    rng = random.Random(1234)
    pieces = [b"UNA:+.? '", b"UNB+UNOC:3+S+R+250314:1000+1'", b"UNH+1+X:D:96A:UN'", b"UNT+2+1'", b"UNZ+1+1'", b"?", b"'", b"+", b":", b"\xc3", b"UNG+X+S+R+250314:1000+G'", b"UNE+1+G'"]
    for _ in range(500):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        for ic in parse_file(data):
            assert isinstance(ic.raw, bytes)


# --------------------------------------------------------------------------- builder


def ordrsp_messages():
    return [
        ("ORDRSP", "D", "96A", "UN", "1", [
            ("BGM", ["231", "PO-4711", "4"]),
            ("DTM", [("137", "20250314", "102")]),
            ("FTX", ["AAI", "", "", "PRICE 10+2, OK? IT'S: FINE"]),
        ]),
        ("ORDRSP", "D", "96A", "UN", "2", [("BGM", ["231", "PO-4712", "27"])]),
    ]


@pytest.mark.parametrize("una", [True, False])
@pytest.mark.parametrize("syntax_id", ["UNOA", "UNOB", "UNOC", "UNOY"])
def test_builder_round_trips_through_parser(una, syntax_id):
    data = build_interchange(
        sender=("4012345000009", "14"), recipient=("BUYER", "ZZ"), control_ref="OUT1", syntax_id=syntax_id,
        messages=ordrsp_messages(), una=una, prepared_at=datetime(2025, 3, 14, 9, 15),
    )

    ic = only(data)

    assert ic.errors == []
    assert ic.has_una is una
    assert (ic.sender_id, ic.recipient_id, ic.control_ref, ic.syntax_id) == ("4012345000009", "BUYER", "OUT1", syntax_id)
    assert ic.prepared_at == datetime(2025, 3, 14, 9, 15)
    assert [(m.type, m.version, m.release, m.agency, m.ref) for m in ic.messages] == [("ORDRSP", "D", "96A", "UN", "1"), ("ORDRSP", "D", "96A", "UN", "2")]
    assert [(s.tag, s.elements) for s in ic.messages[0].body] == [
        ("BGM", ("231", "PO-4711", "4")),
        ("DTM", (("137", "20250314", "102"),)),
        ("FTX", ("AAI", "", "", "PRICE 10+2, OK? IT'S: FINE")),
    ]
    assert ic.raw == data


def test_builder_escapes_service_characters_with_release():
    data = build_interchange(sender="S", recipient="R", control_ref="1", syntax_id="UNOC", messages=[("ORDRSP", "D", "96A", "UN", "1", [("FTX", ["a'b+c:d?e"])])], una=True)

    assert b"FTX+a?'b?+c?:d??e'" in data
    assert data.startswith(b"UNA:+.? 'UNB+UNOC:3+S+R+")
    assert data.endswith(b"UNT+3+1'UNZ+1+1'")


def test_builder_writes_latin1_for_unoc_and_utf8_for_unoy():
    message = [("ORDRSP", "D", "96A", "UN", "1", [("FTX", ["Müller"])])]

    assert "Müller".encode("latin-1") in build_interchange(sender="S", recipient="R", control_ref="1", syntax_id="UNOC", messages=message, una=False)
    assert "Müller".encode("utf-8") in build_interchange(sender="S", recipient="R", control_ref="1", syntax_id="UNOY", messages=message, una=False)


@pytest.mark.parametrize(("syntax_id", "value"), [("UNOA", "lower"), ("UNOB", "Müller"), ("UNOC", "Ωmega"), ("UNOC", "€")])
def test_builder_refuses_characters_the_charset_cannot_carry(syntax_id, value):
    with pytest.raises(UnencodableCharacter, match=syntax_id):
        build_interchange(sender="S", recipient="R", control_ref="1", syntax_id=syntax_id, messages=[("ORDRSP", "D", "96A", "UN", "1", [("FTX", [value])])], una=True)


def test_builder_honours_custom_separators():
    separators = Separators(component="|", element="*", decimal=",", release="#", repetition=" ", terminator="~")

    data = build_interchange(sender="S", recipient="R", control_ref="1", syntax_id="UNOC", messages=[("ORDRSP", "D", "96A", "UN", "1", [("FTX", ["x*y~z"])])], una=True, separators=separators)

    assert data.startswith(b"UNA|*,# ~UNB*UNOC|3")
    assert only(data).messages[0].body[0].elements == ("x*y~z",)


def test_split_segment_keeps_empty_trailing_components():
    assert split_segment("NAD+SU+4012345000009::9", Separators()) == ("NAD", ("SU", ("4012345000009", "", "9")))


def test_every_code_has_its_official_meaning():
    assert MEANINGS[Code.CONTROL_COUNT_DOES_NOT_MATCH] == "Control count does not match number of instances received"
    assert set(MEANINGS) == set(Code)


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is installed in the project venv
    pass
else:
    _text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x17F, blacklist_characters="\x7f"), max_size=12)
    _element = st.one_of(_text, st.lists(_text, min_size=2, max_size=4).map(tuple))
    _segment = st.tuples(st.sampled_from(["BGM", "FTX", "NAD", "LIN", "QTY", "RFF"]), st.lists(_element, max_size=6).map(tuple))

    @settings(max_examples=examples(150), deadline=None)
    @given(
        segments=st.lists(_segment, max_size=8),
        una=st.booleans(),
        syntax_id=st.sampled_from(["UNOC", "UNOY", "UNOW"]),
        line_breaks=st.booleans(),
    )
    def test_builder_round_trip_property(segments, una, syntax_id, line_breaks):
        if syntax_id == "UNOC":
            segments = [(t, e) for t, e in segments if all(c.encode("latin-1", "ignore").decode("latin-1") == c for c in str(e))]
        data = build_interchange(
            sender="S", recipient="R", control_ref="P1", syntax_id=syntax_id, una=una, line_breaks=line_breaks,
            messages=[("ORDRSP", "D", "96A", "UN", "M1", segments)], prepared_at=datetime(2025, 1, 2, 3, 4),
        )

        ic = only(data)

        assert ic.errors == []
        assert [(s.tag, s.elements) for s in ic.messages[0].body] == list(segments)
