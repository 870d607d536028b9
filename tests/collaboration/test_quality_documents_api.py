"""Quality documents through the supplier API: multipart upload, problems with codes, supplier-scoped
reads and downloads, token scopes, Idempotency-Key."""
import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart
from rest_framework.test import APIClient

from collaboration.models import QualityDocument, Shipment, SupplierApiToken
from portal.api_tokens import new_token
from tests.collaboration.test_quality_documents import COC, ELF, TODAY, upload
from tests.collaboration.test_uploads import pdf_bytes
from tests.support.private_files import stored_files
from tests.factories import create_purchase_order

URL = "/api/v1/quality-documents"


def token_client(supplier, scopes) -> APIClient:
    raw, prefix, key_hash = new_token("sup")
    SupplierApiToken.objects.create(supplier=supplier, name="QMS", prefix=prefix, key_hash=key_hash, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def qms(nordwerk, orders):  # noqa: F811
    """The supplier's quality system, with a token that may upload (and read) quality documents."""
    return token_client(nordwerk, ["quality"])


def body(content: bytes | None = None, **overrides) -> dict:
    data = {"file": SimpleUploadedFile("coc.pdf", pdf_bytes() if content is None else content),
            "document_type": COC, "item": "BRK-2201", "lot": "L-7", "issued_on": (TODAY - timedelta(days=3)).isoformat(),
            "expires_on": (TODAY + timedelta(days=365)).isoformat()}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_upload_then_list_read_and_download(qms, nordwerk):
    content = pdf_bytes()
    created = qms.post(URL, body(content, purchase_order="PO-1", order_line="10"), format="multipart")
    assert created.status_code == 201, created.content
    document = created.json()
    assert (document["supplier"], document["document_type"], document["item"], document["lot"]) == ("NORDWERK", COC, "BRK-2201", "L-7")
    assert (document["purchase_order"], document["order_line"], document["shipment"]) == ("PO-1", 10, None)
    assert document["review_status"] == "pending" and document["sha256"] == hashlib.sha256(content).hexdigest()
    assert QualityDocument.objects.get().uploaded_by is None  # a token, not a person
    assert [row["id"] for row in qms.get(URL).json()["results"]] == [document["id"]]
    assert qms.get(URL, {"document_type": "ppap"}).json()["results"] == []
    assert qms.get(f"{URL}/{document['id']}").json()["original_name"] == "coc.pdf"
    download = qms.get(document["file"], HTTP_ACCEPT="application/pdf")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="coc.pdf"'
    assert b"".join(download.streaming_content) == content


def test_a_renamed_executable_is_a_422_problem_and_nothing_is_stored(qms, settings):
    response = qms.post(URL, body(ELF), format="multipart")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json" and response.json()["code"] == "invalid_upload"
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_a_file_over_the_limit_is_a_413_problem(qms, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    response = qms.post(URL, body(), format="multipart")
    assert response.status_code == 413 and response.json()["code"] == "upload_too_large"
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


@pytest.mark.parametrize(("overrides", "field"), [
    ({"expires_on": (TODAY - timedelta(days=30)).isoformat()}, "expires_on"),
    ({"purchase_order": "PO-X", "order_line": "10", "item": ""}, "order_line"),
    ({"shipment": "ASN-X"}, "shipment"),
    ({"item": "NOT-MINE", "lot": ""}, "item"),
    ({"document_type": "diploma"}, "document_type"),
    ({"issued_on": None}, "issued_on"),
])
def test_bad_fields_are_invalid_document_problems(qms, alpenguss, settings, overrides, field):
    create_purchase_order("PO-X", supplier=alpenguss)
    Shipment.objects.create(supplier=alpenguss, number="ASN-X", ship_to="PLANT-1", despatch_date=TODAY, expected_arrival=TODAY)
    response = qms.post(URL, body(**overrides), format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "invalid_document"
    assert field in response.json()["errors"]
    assert not QualityDocument.objects.exists() and stored_files(settings) == []


def test_another_suppliers_document_is_not_found(qa, orders, nordwerk, alpenguss):  # noqa: F811
    document = upload(qa, nordwerk)
    foreign = token_client(alpenguss, ["read", "quality"])
    assert foreign.get(URL).json()["results"] == []
    for path in (f"{URL}/{document.pk}", f"{URL}/{document.pk}/file"):
        response = foreign.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_anonymous_calls_are_401(qa, orders, nordwerk):  # noqa: F811
    document = upload(qa, nordwerk)
    for path in (URL, f"{URL}/{document.pk}", f"{URL}/{document.pk}/file"):
        assert APIClient().get(path).status_code == 401
    assert APIClient().post(URL, body(), format="multipart").status_code == 401


def test_uploads_need_the_quality_scope(nordwerk, orders, settings):  # noqa: F811
    reader = token_client(nordwerk, ["read", "ship"])
    refused = reader.post(URL, body(), format="multipart")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert not QualityDocument.objects.exists() and stored_files(settings) == []
    assert token_client(nordwerk, ["acknowledge"]).get(URL).status_code == 403  # neither read nor quality
    assert token_client(nordwerk, ["read"]).get(URL).status_code == 200


def test_session_users_upload_as_themselves(qa_user, orders):  # noqa: F811
    client = APIClient()
    client.force_login(qa_user)
    response = client.post(URL, body(), format="multipart")
    assert response.status_code == 201
    assert QualityDocument.objects.get().uploaded_by == qa_user


def test_idempotency_key_replays_the_upload_and_refuses_other_content(qms):
    content = pdf_bytes()
    first = qms.post(URL, body(content), format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")
    again = qms.post(URL, body(content), format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    # Another client library draws another multipart boundary for the retry: still the same request.
    retried = qms.generic("POST", URL, encode_multipart("retry-boundary", body(content)),
                          content_type="multipart/form-data; boundary=retry-boundary", HTTP_IDEMPOTENCY_KEY="upload-1")
    assert retried.status_code == 201 and retried["Idempotent-Replayed"] == "true"
    assert QualityDocument.objects.count() == 1
    other = qms.post(URL, body(content, lot="L-8"), format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert QualityDocument.objects.count() == 1


def test_the_schema_describes_the_multipart_upload_and_the_download():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/quality-documents"]["post"]
    assert list(post["requestBody"]["content"]) == ["multipart/form-data"]
    assert set(schema["paths"]["/api/v1/quality-documents/{id}/file"]["get"]["responses"]["200"]["content"]) == {
        "application/pdf", "image/png", "image/jpeg"}


@pytest.mark.parametrize("query", ["item=%00", "document_type=%00", "lot=a%00b", "review_status=%00"])
def test_a_nul_byte_in_a_filter_finds_nothing_rather_than_failing(qms, query):
    response = qms.get(f"/api/v1/quality-documents?{query}")
    assert response.status_code == 200
