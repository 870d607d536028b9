"""Quality incidents in the supplier API v1: the supplier's own incidents only, answers as JSON or
multipart with files, the same rules and problem codes as the portal."""
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import IncidentAttachment, IncidentStep, Membership
from tests.collaboration.test_quality_incidents import (  # noqa: F401 (fixtures)
    ELF,
    PDF,
    answer,
    buyer,
    buyer_user,
    incident,
    open_incident,
    other_qa_user,
    pdf,
    stored_files,
)
from tests.factories import UserFactory

URL = "/api/v1/quality-incidents"


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def token_client(supplier, scopes: list[str]) -> APIClient:
    admin = Membership.objects.create(user=UserFactory(), supplier=supplier, role="admin").user
    _, raw = services.api_token_create(supplier=supplier, name="QMS", scopes=scopes, expires_at=None,
                                       actor=Actor.for_user(admin, channel="portal"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def status_of(kind: str) -> str:
    return IncidentStep.objects.get(kind=kind).status


def test_supplier_lists_and_reads_its_own_incidents_only(incident, qa_user, alpenguss, other_qa_user):
    open_incident("NC-OTHER", supplier="ALPENGUSS")
    listing = api_for(qa_user).get(URL).json()
    assert [row["reference"] for row in listing["results"]] == ["NC-4711"]
    assert listing["results"][0]["quantity_on_hold"] == "120.0000"
    assert listing["results"][0]["next_due_on"] is not None
    detail = api_for(qa_user).get(f"{URL}/NC-4711").json()
    assert [s["kind"] for s in detail["steps"]] == ["containment", "root_cause", "corrective_action", "verification"]
    assert detail["hold_status"] == "on_hold" and detail["description"] == "Burrs on the mounting holes."
    foreign = api_for(qa_user).get(f"{URL}/NC-OTHER")
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"


def test_supplier_answers_containment_as_multipart_with_a_pdf(incident, qa_user):
    body = {"response": "Sorted at the plant.", "attachments": [pdf("sorting.pdf")]}
    response = api_for(qa_user).post(f"{URL}/NC-4711/steps/containment", body, format="multipart")
    assert response.status_code == 200, response.content
    containment = response.json()["steps"][0]
    assert containment["status"] == "answered" and containment["response"] == "Sorted at the plant."
    assert [a["name"] for a in containment["attachments"]] == ["sorting.pdf"]
    assert IncidentAttachment.objects.get().sha256 == hashlib.sha256(PDF).hexdigest()


def test_answer_as_json_without_files(incident, qa_user):
    response = api_for(qa_user).post(f"{URL}/NC-4711/steps/containment", {"response": "Blocked our stock."}, format="json")
    assert response.status_code == 200
    assert status_of("containment") == "answered" and not IncidentAttachment.objects.exists()


@pytest.mark.parametrize(("kind", "body", "status", "code"), [
    ("root_cause", {"response": "Worn tool."}, 409, "step_out_of_order"),
    ("containment", {"response": "  "}, 400, "invalid_document"),
    ("containment", {}, 400, "invalid_document"),
    ("sorting", {"response": "x"}, 404, "not_found"),
])
def test_bad_answers_are_refused_with_a_problem_code_and_change_nothing(incident, qa_user, kind, body, status, code):
    response = api_for(qa_user).post(f"{URL}/NC-4711/steps/{kind}", body, format="json")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json" and response.json()["code"] == code
    assert set(IncidentStep.objects.values_list("status", flat=True)) == {"waiting"}


def test_renamed_executable_is_refused_and_nothing_is_stored(incident, qa_user, settings):
    response = api_for(qa_user).post(
        f"{URL}/NC-4711/steps/containment",
        {"response": "See report.", "attachments": [pdf(), SimpleUploadedFile("report.pdf", ELF)]}, format="multipart")
    assert response.status_code == 422 and response.json()["code"] == "invalid_upload"
    assert stored_files(settings) == [] and not IncidentAttachment.objects.exists()
    assert status_of("containment") == "waiting"


def test_another_supplier_gets_404_and_a_sales_user_403(incident, qa, other_qa_user, nordwerk_sales):
    answer(incident, "containment", qa)
    foreign = api_for(other_qa_user).post(f"{URL}/NC-4711/steps/root_cause", {"response": "x"}, format="json")
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    sales = api_for(nordwerk_sales).post(f"{URL}/NC-4711/steps/root_cause", {"response": "x"}, format="json")
    assert sales.status_code == 403 and sales.json()["code"] == "permission_denied"
    assert status_of("root_cause") == "waiting"


def test_token_needs_the_quality_scope_to_answer(incident, nordwerk):
    read_only = token_client(nordwerk, ["read"])
    assert read_only.get(f"{URL}/NC-4711").status_code == 200
    refused = read_only.post(f"{URL}/NC-4711/steps/containment", {"response": "x"}, format="json")
    assert refused.status_code == 403 and status_of("containment") == "waiting"
    quality = token_client(nordwerk, ["quality"])
    assert quality.get(URL).status_code == 200  # the quality scope reads incidents too
    answered = quality.post(f"{URL}/NC-4711/steps/containment", {"response": "From our QMS."}, format="json")
    assert answered.status_code == 200 and status_of("containment") == "answered"
    assert IncidentStep.objects.get(kind="containment").responded_by is None


def test_multipart_answer_replayed_with_its_idempotency_key_is_stored_once(incident, qa_user):
    client = api_for(qa_user)
    first = client.post(f"{URL}/NC-4711/steps/containment", {"response": "Sorted.", "attachments": [pdf()]},
                        format="multipart", HTTP_IDEMPOTENCY_KEY="answer-1")
    again = client.post(f"{URL}/NC-4711/steps/containment", {"response": "Sorted.", "attachments": [pdf()]},
                        format="multipart", HTTP_IDEMPOTENCY_KEY="answer-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert IncidentAttachment.objects.count() == 1


def test_a_returned_step_is_answered_again_through_the_api(incident, qa_user, qa, buyer):
    answer(incident, "containment", qa)
    services.incident_step_review(reference="NC-4711", kind="containment", accept=False, comment="Which lots?", actor=buyer)
    detail = api_for(qa_user).get(f"{URL}/NC-4711").json()
    assert detail["steps"][0]["status"] == "returned" and detail["steps"][0]["buyer_comment"] == "Which lots?"
    again = api_for(qa_user).post(f"{URL}/NC-4711/steps/containment", {"response": "Lots L-77 and L-78."}, format="json")
    assert again.status_code == 200 and again.json()["steps"][0]["status"] == "answered"
