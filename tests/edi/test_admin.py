"""The interchange browser (raw text, parsed segments, per-message outcome, the CONTRL sent, reprocess) and the EDI figures of /metrics."""
from __future__ import annotations

from collaboration.models import Acknowledgement
from edi.inbound import receive_file
from edi.models import Interchange
from tests.edi.conftest import interchange, ordrsp
from tests.factories import create_purchase_order


def test_change_page_shows_segments_outcome_and_the_contrl_answer(partner, nordwerk, admin_client):
    create_purchase_order("PO-1", supplier=nordwerk)
    [result] = receive_file(interchange(ordrsp("PO-1", "4", [("LIN", ["10", "7"]), ("FTX", ["ACD", "", "WEATHER"])])), file_name="a.edi")

    page = admin_client.get(f"/admin/edi/interchange/{result.interchange_id}/change/").content.decode()

    assert "UNB+UNOC:3+4012345000009:14+PORTAL:ZZZ" in page  # raw text
    assert "<td>LIN</td><td>10 + 7</td>" in page  # parsed segments
    assert "12 at segment 6 (LIN): LIN 10: reason_code: Unknown reason" in page
    answer = Interchange.objects.get(pk=result.interchange_id).answer
    assert f"/admin/edi/interchange/{answer.pk}/change/" in page and answer.message_types == ["CONTRL"]
    contrl_page = admin_client.get(f"/admin/edi/interchange/{answer.pk}/change/").content.decode()
    assert f'/admin/edi/interchange/{result.interchange_id}/change/">Inbound IC0001</a>' in contrl_page
    assert "UCM+1+ORDRSP:D:96A:UN+4" in contrl_page and "Delete" not in contrl_page


def test_reprocess_runs_a_rejected_interchange_again_once_the_order_is_there(partner, nordwerk, admin_client):
    [early] = receive_file(interchange(ordrsp("PO-1", "29")), file_name="early.edi")
    assert early.status == "rejected"
    first_answer = Interchange.objects.get(pk=early.interchange_id).answer_id
    create_purchase_order("PO-1", supplier=nordwerk)

    response = admin_client.post("/admin/edi/interchange/", {"action": "reprocess", "_selected_action": [early.interchange_id]}, follow=True)

    assert "Interchange IC0001: accepted." in response.content.decode()
    record = Interchange.objects.get(pk=early.interchange_id)
    assert record.status == "accepted" and record.answer_id != first_answer  # answered again
    assert record.answer.status == "sent"
    assert Acknowledgement.objects.count() == 1
    again = admin_client.post("/admin/edi/interchange/", {"action": "reprocess", "_selected_action": [early.interchange_id]}, follow=True)
    assert "only rejected or partly accepted" in again.content.decode()
    assert Acknowledgement.objects.count() == 1


def test_reprocess_of_a_partly_accepted_interchange_runs_only_its_rejected_messages(partner, nordwerk, admin_client):
    create_purchase_order("PO-1", supplier=nordwerk)
    [result] = receive_file(interchange(ordrsp("PO-1", "29"), ordrsp("PO-2", "29")), file_name="two.edi")
    assert result.status == "partially_accepted"
    create_purchase_order("PO-2", supplier=nordwerk)

    admin_client.post("/admin/edi/interchange/", {"action": "reprocess", "_selected_action": [result.interchange_id]})

    assert Interchange.objects.get(pk=result.interchange_id).status == "accepted"
    assert sorted(Acknowledgement.objects.values_list("purchase_order__number", flat=True)) == ["PO-1", "PO-2"]


def test_metrics_count_interchanges_by_direction_and_outcome(partner, nordwerk, client):
    create_purchase_order("PO-1", supplier=nordwerk)
    data = interchange(ordrsp("PO-1", "29"))
    receive_file(data, file_name="a.edi")
    receive_file(data, file_name="b.edi")  # a duplicate

    text = client.get("/metrics").content.decode()

    assert 'portal_edi_interchanges_total{direction="in",status="accepted"} 1' in text
    assert 'portal_edi_interchanges_total{direction="in",status="duplicate"} 1' in text
    assert 'portal_edi_interchanges_total{direction="out",status="pending"} 3' in text  # ORDERS + 2 CONTRL
