"""Property-based fuzzing of the whole inbound path: whatever segments a partner sends inside an
ORDRSP, DESADV or CONTRL, `receive_file` answers with a result and never raises."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from edi.inbound import receive_file
from edi.models import Interchange
from tests.edi.conftest import interchange
from tests.factories import create_purchase_order
from tests.support.fuzzing import examples

TAGS = ["BGM", "DTM", "RFF", "NAD", "LIN", "QTY", "PRI", "SCC", "FTX", "CPS", "PAC", "PCI", "GIN", "TDT", "UCI", "UCM", "UCS", "XYZ"]
VALUES = st.one_of(
    st.sampled_from(["", "231", "351", "29", "4", "27", "5", "3", "7", "9", "1", "ON", "CN", "ST", "21", "12", "113", "2", "69", "11",
                     "132", "102", "203", "AAA", "ACD", "BJ", "BX", "BN", "PX", "CT", "PO-1", "10", "20", "400", "-1", "0",
                     "1e9", "99999999999999999999", "20261301", "20261201", "040999990000000012", "4,5", ".5", "capacity"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=12),
)
ELEMENT = st.one_of(VALUES, st.lists(VALUES, min_size=1, max_size=4).map(tuple))
SEGMENT = st.tuples(st.sampled_from(TAGS), st.lists(ELEMENT, max_size=5))


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(["ORDRSP", "DESADV", "CONTRL"]), body=st.lists(SEGMENT, max_size=25), test=st.booleans())
def test_random_message_content_never_raises(partner, nordwerk, kind, body, test):
    if not nordwerk.purchase_orders.exists():
        create_purchase_order("PO-1", supplier=nordwerk, line_count=2)
    before = Interchange.objects.filter(direction="in").count()

    results = receive_file(interchange((kind, body), ref=f"F{before}", test=test), file_name="fuzz.edi")

    assert len(results) == 1
    assert results[0].status in {"accepted", "partially_accepted", "rejected"}
    for message in results[0].messages:
        assert message.status == "accepted" or message.errors or results[0].errors
