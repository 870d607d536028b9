"""Quality incidents: opened by the ERP or a buyer, answered by the supplier step by step in order
(with checked attachments), reviewed by the buyer, the hold released or scrapped (and told to the ERP)."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_quality_incident
from collaboration.errors import AlreadyDecided, InvalidDocument, NotFound, PermissionDenied
from collaboration.models import AuditEvent, IncidentAttachment, IncidentStep, QualityIncident
from collaboration.services.quality_incidents import HoldNotDecided, IncidentClosed, StepNotOpen, StepOutOfOrder
from erp_bridge.models import OutboxMessage
from portal.models import AccountSettings
from tests.collaboration.test_uploads import pdf_bytes
from tests.support.private_files import stored_files
from tests.factories import MembershipFactory, UserFactory, create_purchase_order

PDF = pdf_bytes()  # one document: reportlab stamps each new one differently
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 200
ERP = Actor.system("erp-token:test", channel="erp")
STEPS = ["containment", "root_cause", "corrective_action", "verification"]


def incident_document(reference: str = "NC-4711", **overrides) -> dict:
    return {"reference": reference, "supplier": "NORDWERK", "purchase_order": "", "item": "BRK-2201", "lot": "L-77",
            "quantity_on_hold": "120", "uom": "PCE", "description": "Burrs on the mounting holes.", **overrides}


def open_incident(reference: str = "NC-4711", *, actor: Actor = ERP, **overrides) -> QualityIncident:
    document = parse_quality_incident(incident_document(reference, **overrides))
    return services.quality_incident_open(document=document, actor=actor).incident


def step(incident: QualityIncident, kind: str) -> IncidentStep:
    return IncidentStep.objects.get(incident=incident, kind=kind)


def pdf(name: str = "containment.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def other_qa_user(alpenguss):
    user = UserFactory(username="qa@alpenguss.example", email="qa@alpenguss.example")
    MembershipFactory(user=user, supplier=alpenguss, role="quality")
    return user


@pytest.fixture
def buyer_user(django_user_model):
    return django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-buyer-pass-1")


@pytest.fixture
def buyer(buyer_user):
    return Actor.for_user(buyer_user, channel="admin")


@pytest.fixture
def incident(nordwerk):
    return open_incident()


def answer(incident: QualityIncident, kind: str, actor: Actor, *, response: str = "Done.", attachments=()) -> IncidentStep:
    return services.incident_step_answer(reference=incident.reference, kind=kind, response=response,
                                         attachments=list(attachments), actor=actor)


# --- Opening ---------------------------------------------------------------------------------

def test_incident_is_opened_with_four_steps_due_by_the_default_days(incident, settings):
    today = timezone.localdate()
    steps = list(incident.steps.order_by("position"))
    assert [(s.kind, s.position, s.status) for s in steps] == [(kind, n, "waiting") for n, kind in enumerate(STEPS, start=1)]
    assert [s.due_on for s in steps] == [today + timedelta(days=d) for d in (1, 7, 14, 30)]
    assert incident.opened_channel == "erp" and incident.hold_status == "on_hold" and incident.status == "open"
    assert AuditEvent.objects.filter(action="quality_incident.opened", object_id=str(incident.pk)).count() == 1
    assert not OutboxMessage.objects.exists()  # the ERP opened it: nothing goes back to it


def test_step_days_come_from_settings_and_a_given_date_pushes_later_defaults(nordwerk, settings):
    settings.QUALITY_STEP_DAYS = [2, 3, 4, 5]
    today = timezone.localdate()
    far = today + timedelta(days=60)
    incident = open_incident(due_dates={"root_cause": far.isoformat()})
    due = dict(incident.steps.values_list("kind", "due_on"))
    # Corrective action and verification would be due before the root cause: they follow it.
    assert due == {"containment": today + timedelta(days=2), "root_cause": far, "corrective_action": far, "verification": far}


def test_supplier_user_cannot_open_an_incident(nordwerk, qa):
    with pytest.raises(PermissionDenied):
        open_incident(actor=qa)
    assert not QualityIncident.objects.exists()


def test_opening_emails_the_quality_and_admin_users_with_a_link(nordwerk, qa_user, nordwerk_sales, mails,
                                                                   django_capture_on_commit_callbacks):
    admin_user = UserFactory(username="boss@nordwerk.example", email="boss@nordwerk.example")
    MembershipFactory(user=admin_user, supplier=nordwerk, role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        open_incident()
    assert len(mails) == 1
    assert sorted(mails[0].to) == ["boss@nordwerk.example", "qa@nordwerk.example"]  # not the sales user
    assert mails[0].subject == "Quality incident NC-4711: BRK-2201 lot L-77 on hold"
    assert "https://portal.example.com/quality/incidents/NC-4711/" in mails[0].body
    assert "120 PCE" in mails[0].body and "Containment: by" in mails[0].body


# --- The supplier's answers --------------------------------------------------------------------

def test_quality_user_answers_containment_with_a_pdf_in_the_portal(client, incident, qa_user, settings):
    client.force_login(qa_user)
    page = client.get(reverse("collaboration:incident-detail", args=["NC-4711"])).content.decode()
    assert 'action="/quality/incidents/NC-4711/steps/containment/answer/"' in page
    assert "steps/root_cause/answer" not in page  # only the next step has a form
    response = client.post(reverse("collaboration:incident-step-answer", args=["NC-4711", "containment"]),
                           {"response": "Stock at our site blocked; 120 pcs sorted at the plant.", "attachments": [pdf()]})
    assert response.status_code == 302
    answered = step(incident, "containment")
    assert answered.status == "answered" and answered.responded_by == qa_user
    attachment = answered.attachments.get()
    assert attachment.original_name == "containment.pdf" and attachment.content_type == "application/pdf"
    assert attachment.file.name.startswith(f"incidents/{incident.supplier_id}/")
    download = client.get(reverse("collaboration:incident-attachment-download", args=[attachment.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PDF
    page = client.get(reverse("collaboration:incident-detail", args=["NC-4711"])).content.decode()
    assert "Stock at our site blocked" in page and "steps/root_cause/answer" in page  # the next step is open now


def test_answering_root_cause_before_containment_is_refused(client, incident, qa_user, qa):
    with pytest.raises(StepOutOfOrder, match="containment first"):
        answer(incident, "root_cause", qa)
    client.force_login(qa_user)
    response = client.post(reverse("collaboration:incident-step-answer", args=["NC-4711", "root_cause"]),
                           {"response": "Worn deburring tool."})
    assert response.status_code == 409
    assert "Answer the containment first" in response.content.decode()
    assert step(incident, "root_cause").status == "waiting" and step(incident, "root_cause").response == ""


def test_a_renamed_executable_is_refused_and_nothing_is_stored(client, incident, qa_user, settings):
    client.force_login(qa_user)
    # A real PDF first, then the executable: the PDF already written must go as well.
    response = client.post(reverse("collaboration:incident-step-answer", args=["NC-4711", "containment"]),
                           {"response": "Sorted.", "attachments": [pdf(), SimpleUploadedFile("report.pdf", ELF)]})
    assert response.status_code == 422
    assert "PDF, PNG or JPEG" in response.content.decode()
    assert stored_files(settings) == []
    assert not IncidentAttachment.objects.exists()
    assert step(incident, "containment").status == "waiting"


def test_empty_answer_is_refused_with_a_clear_error(incident, qa):
    with pytest.raises(InvalidDocument) as refused:
        answer(incident, "containment", qa, response="   ", attachments=[pdf()])
    assert "response" in refused.value.details
    assert step(incident, "containment").status == "waiting" and not IncidentAttachment.objects.exists()


def test_another_supplier_cannot_see_the_incident_or_download_its_attachment(client, incident, qa, other_qa_user, settings):
    attachment_id = answer(incident, "containment", qa, attachments=[pdf()]).attachments.get().pk
    client.force_login(other_qa_user)
    listing = client.get(reverse("collaboration:incident-list")).content.decode()
    assert "NC-4711" not in listing
    assert client.get(reverse("collaboration:incident-detail", args=["NC-4711"])).status_code == 404
    assert client.get(reverse("collaboration:incident-attachment-download", args=[attachment_id])).status_code == 404
    response = client.post(reverse("collaboration:incident-step-answer", args=["NC-4711", "root_cause"]), {"response": "x"})
    assert response.status_code == 404
    with pytest.raises(NotFound):
        answer(incident, "root_cause", Actor.for_user(other_qa_user, channel="portal"))
    assert step(incident, "root_cause").status == "waiting"


def test_a_sales_user_cannot_answer(client, incident, nordwerk_sales):
    client.force_login(nordwerk_sales)
    page = client.get(reverse("collaboration:incident-detail", args=["NC-4711"])).content.decode()
    assert "steps/containment/answer" not in page and "quality or admin users answer" in page
    response = client.post(reverse("collaboration:incident-step-answer", args=["NC-4711", "containment"]),
                           {"response": "We sorted it."})
    assert response.status_code == 403
    assert "quality or admin users" in response.content.decode()
    assert step(incident, "containment").status == "waiting"


def test_buyer_returns_a_step_with_a_comment_and_the_supplier_answers_again(incident, qa, buyer, mails,
                                                                          django_capture_on_commit_callbacks):
    answer(incident, "containment", qa, response="Sorted.")
    with pytest.raises(StepNotOpen):
        answer(incident, "containment", qa, response="Again, while the buyer reviews.")
    with pytest.raises(InvalidDocument, match="Say what is missing"):
        services.incident_step_review(reference="NC-4711", kind="containment", accept=False, comment=" ", actor=buyer)
    assert step(incident, "containment").status == "answered"
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_step_review(reference="NC-4711", kind="containment", accept=False,
                                      comment="Send the sorting results per lot.", actor=buyer)
    returned = step(incident, "containment")
    assert returned.status == "returned" and returned.buyer_comment == "Send the sorting results per lot."
    assert mails[-1].subject == "Quality incident NC-4711: Containment returned to you"
    assert "Send the sorting results per lot." in mails[-1].body
    with pytest.raises(StepOutOfOrder):  # a returned step holds back the next one
        answer(incident, "root_cause", qa)
    answer(incident, "containment", qa, response="Sorted: L-77 118 ok, 2 scrapped.", attachments=[pdf("sorting.pdf")])
    services.incident_step_review(reference="NC-4711", kind="containment", accept=True, comment="", actor=buyer)
    assert step(incident, "containment").status == "accepted"
    assert step(incident, "containment").response == "Sorted: L-77 118 ok, 2 scrapped."


def test_a_quality_user_who_chose_german_gets_the_incident_mails_in_german(incident, qa, qa_user, buyer, mails,
                                                                          django_capture_on_commit_callbacks):
    AccountSettings.objects.create(user=qa_user, language="de")
    answer(incident, "containment", qa)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_step_review(reference="NC-4711", kind="containment", accept=False, comment="Mehr Details.", actor=buyer)
    assert mails[-1].subject == "Reklamation NC-4711: Schritt „Sofortmaßnahme“ an Sie zurückgegeben"
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_hold_decide(reference="NC-4711", decision="scrapped", comment="Nicht nacharbeitbar.", actor=buyer)
    assert mails[-1].subject == "Reklamation NC-4711: gesperrte Ware verschrottet"
    assert "(120 PCE von BRK-2201, Charge L-77) wurde verschrottet." in mails[-1].body


def test_supplier_cannot_review_steps_or_decide_the_hold(incident, qa):
    answer(incident, "containment", qa)
    with pytest.raises(PermissionDenied):
        services.incident_step_review(reference="NC-4711", kind="containment", accept=True, comment="", actor=qa)
    with pytest.raises(PermissionDenied):
        services.incident_hold_decide(reference="NC-4711", decision="released", comment="", actor=qa)
    assert step(incident, "containment").status == "answered"
    assert QualityIncident.objects.get().hold_status == "on_hold"


# --- The hold and closing ----------------------------------------------------------------------

def test_buyer_releases_the_hold_and_exactly_one_event_goes_to_the_erp(nordwerk, buyer):
    create_purchase_order("PO-7001", supplier=nordwerk)
    open_incident(purchase_order="PO-7001", quantity_on_hold="120.500")
    services.incident_hold_decide(reference="NC-4711", decision="released", comment="Reworked at the plant.", actor=buyer)
    message = OutboxMessage.objects.get(type__startswith="quality.")
    assert message.type == "quality.hold_released" and message.aggregate == "PO-7001"
    assert message.payload == {
        "reference": "NC-4711", "supplier": "NORDWERK", "purchase_order": "PO-7001", "item": "BRK-2201", "lot": "L-77",
        "quantity": "120.5", "uom": "PCE", "decision": "released", "comment": "Reworked at the plant.",
    }
    with pytest.raises(AlreadyDecided):
        services.incident_hold_decide(reference="NC-4711", decision="scrapped", comment="Changed our mind.", actor=buyer)
    assert OutboxMessage.objects.filter(type__startswith="quality.").count() == 1
    incident = QualityIncident.objects.get()
    assert incident.hold_status == "released" and incident.hold_decided_by == buyer.user


def test_scrapping_needs_a_comment_and_goes_to_the_erp_under_the_incident_reference(incident, buyer):
    with pytest.raises(InvalidDocument, match="why the goods are scrapped"):
        services.incident_hold_decide(reference="NC-4711", decision="scrapped", comment="", actor=buyer)
    with pytest.raises(InvalidDocument):
        services.incident_hold_decide(reference="NC-4711", decision="returned", comment="x", actor=buyer)
    assert not OutboxMessage.objects.exists()
    services.incident_hold_decide(reference="NC-4711", decision="scrapped", comment="Cracks; not reworkable.", actor=buyer)
    message = OutboxMessage.objects.get()
    assert (message.type, message.aggregate) == ("quality.hold_scrapped", "NC-4711")
    assert message.payload["decision"] == "scrapped" and message.payload["purchase_order"] == ""
    with pytest.raises(AlreadyDecided):
        services.incident_hold_decide(reference="NC-4711", decision="scrapped", comment="Again.", actor=buyer)
    assert OutboxMessage.objects.count() == 1


def test_incident_closes_once_every_step_is_accepted_and_the_hold_decided(incident, qa, buyer):
    for kind in STEPS:
        answer(incident, kind, qa, response=f"{kind} answered.")
        services.incident_step_review(reference="NC-4711", kind=kind, accept=True, comment="", actor=buyer)
    assert QualityIncident.objects.get().status == "open"  # the goods are still on hold
    services.incident_hold_decide(reference="NC-4711", decision="released", comment="", actor=buyer)
    assert QualityIncident.objects.get().status == "closed"
    assert AuditEvent.objects.filter(action="quality_incident.closed").count() == 1


def test_buyer_closes_early_only_after_the_hold_is_decided_and_then_nothing_is_answered(incident, qa, buyer):
    with pytest.raises(HoldNotDecided):
        services.incident_close(reference="NC-4711", comment="Supplier delisted.", actor=buyer)
    services.incident_hold_decide(reference="NC-4711", decision="released", comment="", actor=buyer)
    with pytest.raises(InvalidDocument):
        services.incident_close(reference="NC-4711", comment="", actor=buyer)
    services.incident_close(reference="NC-4711", comment="Supplier delisted.", actor=buyer)
    assert QualityIncident.objects.get().status == "closed"
    with pytest.raises(IncidentClosed):
        answer(incident, "containment", qa)
    assert step(incident, "containment").status == "waiting"


# --- Portal list -------------------------------------------------------------------------------

def test_list_shows_open_incidents_first_and_flags_overdue_steps(client, nordwerk, qa_user, buyer,
                                                                 django_assert_max_num_queries):
    overdue = open_incident("NC-1")
    IncidentStep.objects.filter(incident=overdue, kind="containment").update(due_on=timezone.localdate() - timedelta(days=2))
    open_incident("NC-2")
    services.incident_hold_decide(reference="NC-2", decision="released", comment="", actor=buyer)
    services.incident_close(reference="NC-2", comment="Goods fine after all.", actor=buyer)
    open_incident("NC-3")
    client.force_login(qa_user)
    with django_assert_max_num_queries(6):
        page = client.get(reverse("collaboration:incident-list")).content.decode()
    assert page.index("NC-3") < page.index("NC-1") < page.index("NC-2")  # open (newest first), then closed
    assert 'class="overdue" data-testid="incident-NC-1"' in page
    assert 'class="" data-testid="incident-NC-3"' in page
    assert "1 step overdue" in page
    closed_only = client.get(reverse("collaboration:incident-list"), {"status": "closed"}).content.decode()
    assert "NC-2" in closed_only and "NC-1" not in closed_only


def test_incident_page_needs_a_fixed_number_of_queries(client, incident, qa, qa_user, django_assert_max_num_queries):
    for kind in STEPS[:2]:
        answer(incident, kind, qa, attachments=[pdf(), pdf("photo.pdf")])
    client.force_login(qa_user)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("collaboration:incident-detail", args=["NC-4711"]))
    assert response.status_code == 200 and response.content.decode().count("/download/") == 4


# --- Buyers in the admin -----------------------------------------------------------------------

@pytest.fixture
def buyer_client(client, buyer_user):
    client.force_login(buyer_user)
    return client


def admin_open_form(**overrides) -> dict:
    return {"reference": "", "purchase_order": "", "item": "BRK-2201", "lot": "L-9", "quantity_on_hold": "40",
            "uom": "PCE", "description": "Wrong coating thickness.", **overrides}


def test_buyer_opens_incidents_in_the_admin_with_generated_references(buyer_client, nordwerk):
    add = reverse("admin:collaboration_qualityincident_add")
    assert "Open a quality incident" in buyer_client.get(add).content.decode()
    response = buyer_client.post(add, admin_open_form(supplier=nordwerk.pk))
    year = timezone.localdate().year
    incident = QualityIncident.objects.get()
    assert response.status_code == 302 and incident.reference == f"NC-{year}-0001"
    assert incident.opened_channel == "admin" and incident.steps.count() == 4
    buyer_client.post(add, admin_open_form(supplier=nordwerk.pk, item="BRK-2202"))
    assert QualityIncident.objects.filter(reference=f"NC-{year}-0002").exists()
    # Opened by a buyer, the ERP is told (it did not know yet).
    assert list(OutboxMessage.objects.values_list("type", "aggregate")) == [
        ("quality.incident_opened", f"NC-{year}-0001"), ("quality.incident_opened", f"NC-{year}-0002")]


def test_admin_open_form_shows_errors_and_opens_nothing(buyer_client, nordwerk, alpenguss):
    create_purchase_order("PO-OTHER", supplier=alpenguss)
    add = reverse("admin:collaboration_qualityincident_add")
    response = buyer_client.post(add, admin_open_form(supplier=nordwerk.pk, quantity_on_hold="-5", description=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert "greater than or equal to 0" in page and "Describe what is wrong with the goods." in page
    response = buyer_client.post(add, admin_open_form(supplier=nordwerk.pk, purchase_order="PO-OTHER"))
    assert "belongs to another supplier" in response.content.decode()
    assert not QualityIncident.objects.exists() and not OutboxMessage.objects.exists()


def test_buyer_reviews_steps_and_releases_the_hold_in_the_admin(buyer_client, incident, qa):
    answer(incident, "containment", qa, attachments=[pdf()])
    change = reverse("admin:collaboration_qualityincident_change", args=[incident.pk])
    page = buyer_client.get(change).content.decode()
    attachment = IncidentAttachment.objects.get()
    assert reverse("collaboration:incident-attachment-download", args=[attachment.pk]) in page
    assert 'name="return" value="containment"' in page
    act = reverse("admin:collaboration_qualityincident_act", args=[incident.pk])
    refused = buyer_client.post(act, {"return": "containment", "comment-containment": ""}, follow=True)
    assert "Say what is missing" in refused.content.decode()
    assert step(incident, "containment").status == "answered"
    buyer_client.post(act, {"return": "containment", "comment-containment": "Photos missing."})
    assert step(incident, "containment").status == "returned"
    assert step(incident, "containment").buyer_comment == "Photos missing."
    released = buyer_client.post(act, {"release": "1", "hold_comment": "Checked: fine."}, follow=True)
    assert "Goods released" in released.content.decode()
    assert OutboxMessage.objects.get().type == "quality.hold_released"
    twice = buyer_client.post(act, {"scrap": "1", "hold_comment": "No."}, follow=True)
    assert "already released" in twice.content.decode() and OutboxMessage.objects.count() == 1

