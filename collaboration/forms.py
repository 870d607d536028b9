"""Portal forms. They only parse input into service arguments; rules live in the services."""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from collaboration.models import (
    AcknowledgementLine,
    Membership,
    QualityDocument,
    RejectionReason,
    Supplier,
    SupplierApiToken,
)
from collaboration.services import LineResponse, ScheduleInput

SPLIT_ROWS = 4
Action = AcknowledgementLine.Action


class LineResponseForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=Action.choices, widget=forms.RadioSelect, initial=Action.ACCEPT)
    quantity = forms.DecimalField(required=False, label=_("Quantity"), help_text=_("Leave empty to keep the ordered quantity."))
    unit_price = forms.DecimalField(required=False, label=_("Unit price"), help_text=_("Leave empty to keep the ordered price."))
    promised_date = forms.DateField(required=False, label=_("Promised date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason_code = forms.ChoiceField(required=False, label=_("Reason"))
    reason_text = forms.CharField(required=False, max_length=500, label=_("Explanation"))

    def __init__(self, *args, line_number: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line_number = line_number
        self.fields["reason_code"].choices = [("", "—")] + [
            (reason.code, reason.label) for reason in RejectionReason.objects.filter(is_active=True)
        ]
        for index in range(1, SPLIT_ROWS + 1):
            self.fields[f"split_quantity_{index}"] = forms.DecimalField(required=False, label=gettext("Split %(index)s quantity") % {"index": index})
            self.fields[f"split_date_{index}"] = forms.DateField(
                required=False, label=gettext("Split %(index)s date") % {"index": index}, widget=forms.DateInput(attrs={"type": "date"})
            )

    @classmethod
    def from_response(cls, response: AcknowledgementLine | None, *, line_number: int) -> LineResponseForm:
        if response is None:
            return cls(line_number=line_number)
        schedule = list(response.schedule.all())
        initial = {"action": response.action, "reason_code": response.reason.code if response.reason else "",
                   "reason_text": response.reason_text}
        if response.action == Action.CHANGE:
            initial.update(quantity=response.quantity.normalize(), unit_price=response.unit_price.normalize())
            if len(schedule) > 1:
                for index, entry in enumerate(schedule[:SPLIT_ROWS], start=1):
                    initial[f"split_quantity_{index}"] = entry.quantity.normalize()
                    initial[f"split_date_{index}"] = entry.date
            else:
                initial["promised_date"] = response.promised_date
        return cls(initial=initial, line_number=line_number)

    def split_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"split_quantity_{i}"], self[f"split_date_{i}"]) for i in range(1, SPLIT_ROWS + 1)]

    def to_response(self) -> LineResponse:
        data = self.cleaned_data
        action = data["action"]
        if action == Action.ACCEPT:
            return LineResponse(line=self.line_number, action=action)
        if action == Action.REJECT:
            return LineResponse(line=self.line_number, action=action, reason_code=data["reason_code"],
                                reason_text=data["reason_text"])
        schedule = tuple(
            ScheduleInput(data[f"split_quantity_{i}"], data[f"split_date_{i}"])
            for i in range(1, SPLIT_ROWS + 1)
            if data.get(f"split_quantity_{i}") is not None and data.get(f"split_date_{i}") is not None
        )
        return LineResponse(
            line=self.line_number, action=action, quantity=data["quantity"], unit_price=data["unit_price"],
            promised_date=data["promised_date"], schedule=schedule, reason_code=data["reason_code"],
            reason_text=data["reason_text"],
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's per-field errors for this line on the matching form fields."""
        targets = {"schedule": "split_quantity_1", "line": None}
        for field, messages in errors.items():
            target = targets.get(field, field if field in self.fields else None)
            for message in messages:
                self.add_error(target, message)


class AdministeredSupplierForm(forms.Form):
    """A form about one of the suppliers the user administers: a choice only when there are several."""

    supplier = forms.ModelChoiceField(queryset=None, empty_label=None, label=_("Supplier"))

    def __init__(self, *args, suppliers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(pk__in=[s.pk for s in suppliers])
        if len(suppliers) == 1:
            self.fields["supplier"].widget = forms.HiddenInput()
            self.fields["supplier"].initial = suppliers[0].pk

    def add_service_errors(self, details: dict[str, list[str]]) -> None:
        for field, messages_ in details.items():
            for message in messages_:
                self.add_error(field if field in self.fields else None, message)


class ApiTokenForm(AdministeredSupplierForm):
    name = forms.CharField(max_length=100, label=_("Name"), help_text=_("The system that uses it, e.g. 'ERP connector'."))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), choices=SupplierApiToken.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[SupplierApiToken.Scope.READ])
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=3650, label=_("Expires in (days)"),
                                         help_text=_("Leave empty for a token that lasts until revoked."))

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


class SupplierUserInviteForm(AdministeredSupplierForm):
    email = forms.EmailField(label=_("E-mail address"), help_text=_("The invitation with a link to choose a password goes here."))
    name = forms.CharField(max_length=150, required=False, label=_("Name"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.SALES,
                             help_text=_("Admin: users and API tokens. Sales: answers to orders. "
                                         "Logistics: shipment notices. Quality: documents and incidents."))


class UploadForm(forms.Form):
    MAX_BYTES = 5 * 1024 * 1024

    file = forms.FileField(label=_("File"), help_text=_("The filled-in CSV or Excel (.xlsx) file, at most 5 MB."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 5 MB."))
        return upload


class ShipmentUploadForm(UploadForm):
    submit = forms.BooleanField(required=False, label=_("Submit it at once"),
                                help_text=_("Leave unticked to save a draft you can check, label and submit on its page."))


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files in one input; empty files pass, for the upload check to name them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}))
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


class IncidentAnswerForm(forms.Form):
    """The supplier's answer to one step of a quality incident; the service judges text and files."""

    response = forms.CharField(required=False, label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 6, "required": True}))
    attachments = MultipleFileField(required=False, label=_("Attachments"),
                                    help_text=_("Optional: PDF, PNG or JPEG files, e.g. a sorting report or 8D document."))

    def add_service_errors(self, error) -> None:
        if error.code in ("invalid_upload", "upload_too_large"):
            self.add_error("attachments", error.message)
        elif error.code == "invalid_document" and error.details:
            for field, messages in error.details.items():
                for message in messages if isinstance(messages, list) else [str(messages)]:
                    self.add_error(field if field in self.fields else None, message)
        else:
            self.add_error(None, error.message)


class QualityDocumentForm(forms.Form):
    """A certificate or report and what it is for; the service checks the file and the references."""

    supplier = forms.ModelChoiceField(queryset=None, empty_label=None, label=_("Supplier"))
    document_type = forms.ChoiceField(label=_("Type"), choices=QualityDocument.Type.choices)
    title = forms.CharField(required=False, max_length=200, label=_("Title"), help_text=_("Optional, e.g. the certificate number."))
    item = forms.CharField(required=False, max_length=35, label=_("Item"),
                           help_text=_("An item on your orders. Leave empty for a document about your company as a whole."))
    lot = forms.CharField(required=False, max_length=35, label=_("Lot"), help_text=_("Leave empty when the document covers every lot."))
    purchase_order = forms.CharField(required=False, max_length=35, label=_("Purchase order"),
                                     help_text=_("Optional: the order line the document is for (the item then comes from the line)."))
    order_line = forms.IntegerField(required=False, min_value=1, label=_("Order line"))
    shipment = forms.CharField(required=False, max_length=35, label=_("Shipment (ASN) number"), help_text=_("Optional."))
    issued_on = forms.DateField(label=_("Issued on"), widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(required=False, label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("Leave empty if it does not expire."))
    file = forms.FileField(label=_("File"), help_text=_("A PDF, PNG or JPEG file."))

    def __init__(self, *args, suppliers, max_bytes: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Most users work for one supplier: then there is nothing to choose.
        self.only_supplier = suppliers[0] if len(suppliers) == 1 else None
        if self.only_supplier:
            del self.fields["supplier"]
        else:
            self.fields["supplier"].queryset = Supplier.objects.filter(pk__in=[s.pk for s in suppliers])
        self.fields["file"].help_text = gettext("A PDF, PNG or JPEG file, at most %(megabytes)s MB.") % {
            "megabytes": max_bytes // (1024 * 1024) or 1}
        self.fields["item"].widget.attrs["list"] = "items-supplied"

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {"supplier_id": (self.only_supplier or data["supplier"]).pk, "upload": data["file"],
                **{name: data[name] for name in ("document_type", "title", "item", "lot", "purchase_order", "order_line",
                                                 "shipment", "issued_on", "expires_on")}}

    def add_service_errors(self, error) -> None:
        """A refused upload's errors on the fields they concern; the file's in full sentences."""
        if error.code in ("invalid_upload", "upload_too_large"):
            self.add_error("file", error.message)
            return
        for field, messages in (error.details or {"__all__": [error.message]}).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
