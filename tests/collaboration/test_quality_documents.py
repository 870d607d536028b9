"""Quality documents: upload (checked fields, checked bytes, private storage), access-checked downloads,
the buyer's review, the documents an ASN needs, and reminders before they expire."""
import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_shipment
from collaboration.errors import AlreadyDecided, InvalidDocument, PermissionDenied
from collaboration.models import AuditEvent, ItemRule, QualityDocument, Shipment
from collaboration.services.quality_documents import MissingDocuments
from tests.collaboration.test_shipment_pages import editor_post
from tests.collaboration.test_shipments import DESPATCH, asn
from tests.collaboration.test_uploads import image_bytes, pdf_bytes
from tests.support.private_files import stored_files
from tests.factories import MembershipFactory, UserFactory, create_purchase_order

TODAY = date.today()
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 200
COC = "certificate_of_conformity"


@pytest.fixture
def qa_client(client, qa_user):
    client.force_login(qa_user)
    return client


@pytest.fixture
def buyer(django_user_model):
    return django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-buyer-pass-1")


def upload(actor, supplier, *, content: bytes | None = None, name: str = "coc.pdf", **fields) -> QualityDocument:
    values = {"document_type": COC, "item": "BRK-2201", "issued_on": TODAY - timedelta(days=10),
              "expires_on": TODAY + timedelta(days=365), **fields}
    return services.quality_document_upload(supplier_id=supplier.pk, actor=actor, upload=SimpleUploadedFile(
        name, pdf_bytes() if content is None else content), **values)


def form_data(**overrides) -> dict:
    data = {"document_type": COC, "item": "BRK-2201", "lot": "", "title": "CoC 4711", "purchase_order": "",
            "order_line": "", "shipment": "", "issued_on": (TODAY - timedelta(days=1)).isoformat(),
            "expires_on": (TODAY + timedelta(days=365)).isoformat(),
            "file": SimpleUploadedFile("coc.pdf", pdf_bytes(), content_type="application/pdf")}
    data.update(overrides)
    return data


# --- Upload -----------------------------------------------------------------------------------

def test_portal_upload_stores_the_file_privately_and_lists_it(qa_client, orders, nordwerk, settings):  # noqa: F811
    response = qa_client.post(reverse("collaboration:quality-document-upload"), form_data())
    assert response.status_code == 302 and response["Location"] == reverse("collaboration:quality-document-list")
    document = QualityDocument.objects.get()
    assert (document.supplier, document.document_type, document.item, document.title) == (nordwerk, COC, "BRK-2201", "CoC 4711")
    assert (document.content_type, document.original_name, document.review_status) == ("application/pdf", "coc.pdf", "pending")
    assert document.uploaded_by.username == "qa@nordwerk.example"
    assert stored_files(settings) == [Path(settings.PRIVATE_FILES_ROOT) / document.file.name]
    assert document.file.name.startswith(f"quality/{nordwerk.pk}/") and "coc" not in document.file.name
    assert AuditEvent.objects.filter(action="quality_document.uploaded", object_id=str(document.pk), channel="portal").exists()
    listing = qa_client.get(reverse("collaboration:quality-document-list")).content.decode()
    assert "BRK-2201" in listing and reverse("collaboration:quality-document-download", args=[document.pk]) in listing


def test_a_renamed_executable_is_refused_with_a_form_error_and_nothing_is_stored(qa_client, orders, settings):  # noqa: F811
    response = qa_client.post(reverse("collaboration:quality-document-upload"),
                              form_data(file=SimpleUploadedFile("coc.pdf", ELF, content_type="application/pdf")))
    assert response.status_code == 400
    assert "Upload a PDF, PNG or JPEG file" in response.context["form"].errors["file"][0]
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_a_file_over_the_limit_is_refused_in_the_portal(qa_client, orders, settings):  # noqa: F811
    settings.UPLOAD_MAX_BYTES = 1024
    response = qa_client.post(reverse("collaboration:quality-document-upload"), form_data())
    assert response.status_code == 400 and "larger than" in response.context["form"].errors["file"][0]
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_field_errors_show_on_their_fields_and_nothing_is_stored(qa_client, orders, settings):  # noqa: F811
    response = qa_client.post(reverse("collaboration:quality-document-upload"), form_data(
        expires_on=(TODAY - timedelta(days=30)).isoformat(), item="NOT-MINE"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["expires_on"] == ["The expiry date cannot be before the issue date."]
    assert "NOT-MINE is not an item you supply" in errors["item"][0]
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_png_and_jpeg_are_accepted_and_keep_their_real_extension(qa, orders, nordwerk):  # noqa: F811
    png = upload(qa, nordwerk, content=image_bytes("PNG"), name="scan.pdf")
    jpeg = upload(qa, nordwerk, content=image_bytes("JPEG"), name="photo")
    assert (png.content_type, png.original_name) == ("image/png", "scan.png")
    assert (jpeg.content_type, jpeg.original_name) == ("image/jpeg", "photo.jpg")


def test_expiry_before_issue_is_refused_and_nothing_is_stored(qa, orders, nordwerk, settings):  # noqa: F811
    with pytest.raises(InvalidDocument) as refused:
        upload(qa, nordwerk, issued_on=TODAY, expires_on=TODAY - timedelta(days=1))
    assert refused.value.details == {"expires_on": ["The expiry date cannot be before the issue date."]}
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_unknown_type_and_missing_issue_date_are_refused(qa, orders, nordwerk):  # noqa: F811
    with pytest.raises(InvalidDocument) as refused:
        upload(qa, nordwerk, document_type="diploma", issued_on=None)
    assert set(refused.value.details) == {"document_type", "issued_on"}


def test_another_suppliers_order_line_and_shipment_read_like_unknown_ones(qa, orders, nordwerk, alpenguss, settings):  # noqa: F811
    create_purchase_order("PO-X", supplier=alpenguss)
    Shipment.objects.create(supplier=alpenguss, number="ASN-X", ship_to="PLANT-1", despatch_date=TODAY, expected_arrival=TODAY)
    messages = {}
    for purchase_order, shipment in (("PO-X", "ASN-X"), ("PO-NONE", "ASN-NONE")):
        with pytest.raises(InvalidDocument) as refused:
            upload(qa, nordwerk, item="", purchase_order=purchase_order, order_line=10, shipment=shipment)
        messages[purchase_order] = refused.value.details
    assert messages["PO-X"] == {"order_line": ["No order line PO-X/10 of yours."], "shipment": ["No shipment ASN-X of yours."]}
    assert messages["PO-NONE"] == {"order_line": ["No order line PO-NONE/10 of yours."],
                                   "shipment": ["No shipment ASN-NONE of yours."]}
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_an_item_only_another_supplier_is_ordered_is_refused(qa, orders, nordwerk, alpenguss):  # noqa: F811
    create_purchase_order("PO-X", supplier=alpenguss, line_count=3)  # BRK-2203 is ordered from Alpenguss only
    with pytest.raises(InvalidDocument) as refused:
        upload(qa, nordwerk, item="BRK-2203")
    assert refused.value.details == {"item": ["BRK-2203 is not an item you supply: none of your purchase orders names it."]}


def test_an_order_line_names_the_item_and_a_contradicting_item_is_refused(qa, orders, nordwerk):  # noqa: F811
    document = upload(qa, nordwerk, item="", purchase_order="PO-1", order_line=20, shipment="")
    assert (document.item, document.order_line.line_number) == ("BRK-2202", 20)
    with pytest.raises(InvalidDocument) as refused:
        upload(qa, nordwerk, item="BRK-2201", purchase_order="PO-1", order_line=20)
    assert refused.value.details == {"item": ["Line 20 of PO-1 is for BRK-2202, not BRK-2201."]}
    with pytest.raises(InvalidDocument, match="cannot be uploaded") as half:
        upload(qa, nordwerk, purchase_order="PO-1")
    assert "order_line" in half.value.details


def test_only_quality_and_admin_users_upload(orders, nordwerk, nordwerk_sales, client, settings):  # noqa: F811
    with pytest.raises(PermissionDenied):
        upload(Actor.for_user(nordwerk_sales, channel="portal"), nordwerk)
    client.force_login(nordwerk_sales)
    assert client.get(reverse("collaboration:quality-document-upload")).status_code == 403
    assert client.post(reverse("collaboration:quality-document-upload"), form_data()).status_code == 403
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_a_failed_database_write_leaves_no_file_behind(qa, orders, nordwerk, settings, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("collaboration.services.quality_documents.audit_record", broken)
    with pytest.raises(RuntimeError):
        upload(qa, nordwerk)
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


# --- Download -----------------------------------------------------------------------------------

def test_download_is_an_attachment_for_the_owner_and_the_buyer_only(qa, qa_client, orders, nordwerk, alpenguss_sales,  # noqa: F811
                                                                    buyer, client):
    document = upload(qa, nordwerk, name="CoC BRK.pdf")
    url = reverse("collaboration:quality-document-download", args=[document.pk])
    response = qa_client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="CoC BRK.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == document.sha256
    qa_client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(alpenguss_sales)
    assert client.get(url).status_code == 404
    assert "BRK-2201" not in client.get(reverse("collaboration:quality-document-list")).content.decode()
    client.force_login(buyer)
    assert client.get(url).status_code == 200


# --- List -----------------------------------------------------------------------------------------

def test_list_filters_and_marks_documents_expiring_soon(qa, qa_client, orders, nordwerk, django_assert_max_num_queries):  # noqa: F811
    upload(qa, nordwerk, expires_on=TODAY + timedelta(days=5), lot="L-SOON")
    upload(qa, nordwerk, document_type="ppap", item="BRK-2202", expires_on=None)
    for number in range(10):
        upload(qa, nordwerk, lot=f"L-{number}", purchase_order="PO-1", order_line=10)
    url = reverse("collaboration:quality-document-list")
    with django_assert_max_num_queries(8):
        page = qa_client.get(url).content.decode()
    assert page.count('class="expiring"') == 1 and "Expires soon" in page
    expiring = qa_client.get(url, {"validity": "expiring"}).content.decode()
    assert "L-SOON" in expiring and "L-3" not in expiring
    ppap = qa_client.get(url, {"type": "ppap"})
    assert [d.item for d in ppap.context["page"].object_list] == ["BRK-2202"]
    assert qa_client.get(url, {"status": "approved"}).context["page"].paginator.count == 0
    assert qa_client.get(url, {"item": "2201"}).context["page"].paginator.count == 11


# --- Review ---------------------------------------------------------------------------------------

def test_reject_needs_a_comment_and_mails_the_suppliers_quality_users(qa, orders, nordwerk, buyer, mails,  # noqa: F811
                                                                     django_capture_on_commit_callbacks):
    document = upload(qa, nordwerk)
    reviewer = Actor.for_user(buyer, channel="admin")
    with pytest.raises(InvalidDocument, match="Say why"):
        services.quality_document_review(document_id=document.pk, approve=False, comment="  ", actor=reviewer)
    document.refresh_from_db()
    assert document.review_status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        services.quality_document_review(document_id=document.pk, approve=False, comment="Wrong standard cited.",
                                         actor=reviewer)
    document.refresh_from_db()
    assert (document.review_status, document.review_comment, document.reviewed_by) == ("rejected", "Wrong standard cited.", buyer)
    assert len(mails) == 1 and mails[0].to == ["qa@nordwerk.example"]  # not the sales user
    assert mails[0].subject == "Rejected: your certificate of conformity for BRK-2201"
    assert "Wrong standard cited." in mails[0].body and "https://portal.example.com/quality/documents/" in mails[0].body
    with django_capture_on_commit_callbacks(execute=True):
        services.quality_document_review(document_id=document.pk, approve=True, comment="", actor=reviewer)
    assert QualityDocument.objects.get().review_status == "approved" and mails[-1].subject.startswith("Approved")
    with pytest.raises(AlreadyDecided):
        services.quality_document_review(document_id=document.pk, approve=True, comment="", actor=reviewer)


def test_suppliers_cannot_review(qa, orders, nordwerk):  # noqa: F811
    document = upload(qa, nordwerk)
    with pytest.raises(PermissionDenied):
        services.quality_document_review(document_id=document.pk, approve=True, comment="", actor=qa)
    assert QualityDocument.objects.get().review_status == "pending"


def test_admin_reject_action_asks_for_a_comment_then_rejects(qa, orders, nordwerk, buyer, client):  # noqa: F811
    documents = [upload(qa, nordwerk), upload(qa, nordwerk, lot="L-7")]
    client.force_login(buyer)
    url = reverse("admin:collaboration_qualitydocument_changelist")
    selected = {"action": "reject_selected", "_selected_action": [d.pk for d in documents]}
    asked = client.post(url, selected)
    assert asked.status_code == 200 and "Comment to the supplier" in asked.content.decode()
    without = client.post(url, {**selected, "apply": "1", "comment": " "})
    assert "Say why" in without.content.decode()
    assert set(QualityDocument.objects.values_list("review_status", flat=True)) == {"pending"}
    client.post(url, {**selected, "apply": "1", "comment": "Illegible scan."})
    assert set(QualityDocument.objects.values_list("review_status", "review_comment")) == {("rejected", "Illegible scan.")}
    client.post(url, {"action": "approve_selected", "_selected_action": [documents[0].pk]})
    assert QualityDocument.objects.get(pk=documents[0].pk).review_status == "approved"


def test_admin_document_page_links_the_checked_download_and_reviews(qa, orders, nordwerk, buyer, client):  # noqa: F811
    document = upload(qa, nordwerk)
    client.force_login(buyer)
    page = client.get(reverse("admin:collaboration_qualitydocument_change", args=[document.pk])).content.decode()
    assert reverse("collaboration:quality-document-download", args=[document.pk]) in page and "Reject document" in page
    review = reverse("admin:collaboration_qualitydocument_review", args=[document.pk])
    refused = client.post(review, {"reject": "1", "comment": ""}, follow=True)
    assert "Say why" in refused.content.decode() and QualityDocument.objects.get().review_status == "pending"
    client.post(review, {"approve": "1", "comment": ""})
    assert QualityDocument.objects.get().review_status == "approved"
    listing = client.get(reverse("admin:collaboration_qualitydocument_changelist"), {"review_status__exact": "approved"})
    assert listing.status_code == 200 and "BRK-2201" in listing.content.decode()


def test_item_rule_admin_edits_required_documents_as_choices(buyer, client):
    client.force_login(buyer)
    response = client.post(reverse("admin:collaboration_itemrule_add"), {
        "item": "BRK-2201", "required_documents": [COC, "material_certificate"]})
    assert response.status_code == 302
    assert ItemRule.objects.get().required_documents == [COC, "material_certificate"]
    refused = client.post(reverse("admin:collaboration_itemrule_add"), {"item": "BRK-9", "required_documents": ["diploma"]})
    assert refused.status_code == 200 and not ItemRule.objects.filter(item="BRK-9").exists()


# --- Required documents for ASNs ------------------------------------------------------------------

@pytest.fixture
def coc_required(orders):  # noqa: F811
    ItemRule.objects.create(item="BRK-2201", required_documents=[COC])


def test_asn_submit_is_refused_without_the_required_document_and_allowed_after_upload(
        coc_required, logistics, qa, nordwerk):  # noqa: F811
    draft = services.shipment_save_draft(document=parse_shipment(asn()), actor=logistics)  # a draft needs none
    assert draft.status == "draft"
    with pytest.raises(MissingDocuments) as refused:
        services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    assert refused.value.code == "invalid_document"
    assert refused.value.details == {"lines": {
        "0": {"documents": [f"Upload a certificate of conformity for BRK-2201 (valid on {DESPATCH.isoformat()}) before submitting."]},
        "1": {"documents": [f"Upload a certificate of conformity for BRK-2201 lot L-7 (valid on {DESPATCH.isoformat()}) before submitting."]},
    }}
    assert Shipment.objects.get().status == "draft"
    upload(qa, nordwerk)
    assert services.shipment_submit(document=parse_shipment(asn()), actor=logistics).status == "submitted"


@pytest.mark.parametrize(("fields", "why"), [
    ({"expires_on": DESPATCH - timedelta(days=1), "issued_on": DESPATCH - timedelta(days=30)}, "expired before despatch"),
    ({"issued_on": DESPATCH + timedelta(days=1), "expires_on": None}, "issued after despatch"),
    ({"document_type": "material_certificate"}, "another type"),
])
def test_a_document_not_valid_on_the_despatch_date_does_not_count(coc_required, logistics, qa, nordwerk, fields, why):  # noqa: F811
    upload(qa, nordwerk, **fields)
    with pytest.raises(MissingDocuments):
        services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    assert not Shipment.objects.exists(), why


def test_a_rejected_document_does_not_count(coc_required, logistics, qa, nordwerk, buyer):  # noqa: F811
    document = upload(qa, nordwerk)
    services.quality_document_review(document_id=document.pk, approve=False, comment="Wrong item.",
                                     actor=Actor.for_user(buyer, channel="admin"))
    with pytest.raises(MissingDocuments):
        services.shipment_submit(document=parse_shipment(asn()), actor=logistics)


def test_a_lot_specific_document_counts_only_for_its_lot(coc_required, logistics, qa, nordwerk):  # noqa: F811
    upload(qa, nordwerk, lot="L-7")
    with pytest.raises(MissingDocuments) as refused:
        services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    assert list(refused.value.details["lines"]) == ["0"]  # the line without lot L-7 still lacks one
    lot_only = asn(lines=[asn()["lines"][1]], packages=[
        {"reference": "C2", "kind": "carton", "contents": [{"line": 2, "quantity": "100"}]}])
    assert services.shipment_submit(document=parse_shipment(lot_only), actor=logistics).status == "submitted"


def test_submit_page_links_the_upload_of_the_missing_document(coc_required, logistics, client):  # noqa: F811
    draft = services.shipment_save_draft(document=parse_shipment(asn()), actor=logistics)
    client.force_login(logistics.user)
    response = client.post(reverse("collaboration:shipment-edit", args=[draft.number]), editor_post(draft, action="submit"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Upload a certificate of conformity for BRK-2201 lot L-7" in page
    assert (reverse("collaboration:quality-document-upload")
            + "?document_type=certificate_of_conformity&amp;item=BRK-2201&amp;lot=L-7&amp;shipment=ASN-1") in page
    assert Shipment.objects.get().status == "draft"


def test_the_upload_form_takes_what_the_shipment_page_links(qa_client, orders):  # noqa: F811
    response = qa_client.get(reverse("collaboration:quality-document-upload"),
                             {"document_type": COC, "item": "BRK-2201", "lot": "L-7", "shipment": "ASN-1"})
    form = response.context["form"]
    assert (form["item"].value(), form["lot"].value(), form["shipment"].value()) == ("BRK-2201", "L-7", "ASN-1")


# --- Expiry reminders -----------------------------------------------------------------------------

def test_expiry_reminder_is_sent_once_per_supplier(qa, orders, nordwerk, alpenguss, mails,  # noqa: F811
                                                   django_capture_on_commit_callbacks):
    soon = upload(qa, nordwerk, expires_on=TODAY + timedelta(days=10), lot="L-1")
    also_soon = upload(qa, nordwerk, expires_on=TODAY + timedelta(days=29), document_type="ppap", item="BRK-2202")
    upload(qa, nordwerk, expires_on=TODAY + timedelta(days=90), lot="L-2")  # not yet
    renewed = upload(qa, nordwerk, expires_on=TODAY + timedelta(days=3), lot="L-3")
    upload(qa, nordwerk, expires_on=TODAY + timedelta(days=400), lot="L-3")  # the renewal
    create_purchase_order("PO-X", supplier=alpenguss)
    alpen_qa = UserFactory(username="qa@alpenguss.example", email="qa@alpenguss.example")
    MembershipFactory(user=alpen_qa, supplier=alpenguss, role="admin")
    upload(Actor.for_user(alpen_qa, channel="portal"), alpenguss, expires_on=TODAY + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.quality_document_expiry_reminders(today=TODAY) == 3
    assert sorted(message.to[0] for message in mails) == ["qa@alpenguss.example", "qa@nordwerk.example"]
    nordwerk_mail = next(message for message in mails if message.to == ["qa@nordwerk.example"])
    assert nordwerk_mail.subject == "2 quality documents expire soon"
    assert "lot L-1" in nordwerk_mail.body and "PPAP submission for BRK-2202" in nordwerk_mail.body
    assert "L-2" not in nordwerk_mail.body and "L-3" not in nordwerk_mail.body
    assert QualityDocument.objects.get(pk=soon.pk).expiry_reminder_sent_on == TODAY
    assert QualityDocument.objects.get(pk=renewed.pk).expiry_reminder_sent_on is None
    assert also_soon.pk in QualityDocument.objects.filter(expiry_reminder_sent_on=TODAY).values_list("pk", flat=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.quality_document_expiry_reminders(today=TODAY + timedelta(days=1)) == 0
    assert len(mails) == 2


def test_the_reminder_task_is_scheduled_daily(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "collaboration.tasks.send_quality_expiry_reminders")
    assert entry["schedule"] == 86400.0


def test_the_reminder_task_runs_the_service(qa, orders, nordwerk, mails, django_capture_on_commit_callbacks):  # noqa: F811
    from collaboration.tasks import send_quality_expiry_reminders

    upload(qa, nordwerk, expires_on=TODAY + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_quality_expiry_reminders() == 1
    assert len(mail.outbox) == 1 and "1 quality document expires soon" == mail.outbox[0].subject


def test_staff_without_the_change_permission_cannot_review_in_the_admin(qa, orders, nordwerk, client,  # noqa: F811
                                                                        django_user_model):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    document = upload(qa, nordwerk)
    viewer = django_user_model.objects.create_user("viewer@plant.example", password="x-pass-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_qualitydocument"))
    client.force_login(viewer)
    review = reverse("admin:collaboration_qualitydocument_review", args=[document.pk])
    assert client.post(review, {"approve": "1"}).status_code == 403
    changelist = reverse("admin:collaboration_qualitydocument_changelist")
    client.post(changelist, {"action": "approve_selected", "_selected_action": [document.pk]})
    document.refresh_from_db()
    assert document.review_status == "pending"
