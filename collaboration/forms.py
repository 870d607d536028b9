"""Portal forms. They only parse input into service arguments; rules live in the services."""
from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from collaboration.models import AcknowledgementLine, RejectionReason, Supplier, SupplierApiToken
from collaboration.services import LineResponse, ScheduleInput

SPLIT_ROWS = 4
Action = AcknowledgementLine.Action


class LineResponseForm(forms.Form):
    action = forms.ChoiceField(choices=Action.choices, widget=forms.RadioSelect, initial=Action.ACCEPT)
    quantity = forms.DecimalField(required=False, label="Quantity", help_text="Leave empty to keep the ordered quantity.")
    unit_price = forms.DecimalField(required=False, label="Unit price", help_text="Leave empty to keep the ordered price.")
    promised_date = forms.DateField(required=False, label="Promised date", widget=forms.DateInput(attrs={"type": "date"}))
    reason_code = forms.ChoiceField(required=False, label="Reason")
    reason_text = forms.CharField(required=False, max_length=500, label="Explanation")

    def __init__(self, *args, line_number: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line_number = line_number
        self.fields["reason_code"].choices = [("", "—")] + [
            (reason.code, reason.label) for reason in RejectionReason.objects.filter(is_active=True)
        ]
        for index in range(1, SPLIT_ROWS + 1):
            self.fields[f"split_quantity_{index}"] = forms.DecimalField(required=False, label=f"Split {index} quantity")
            self.fields[f"split_date_{index}"] = forms.DateField(
                required=False, label=f"Split {index} date", widget=forms.DateInput(attrs={"type": "date"})
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
            promised_date=data["promised_date"], schedule=schedule,
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's per-field errors for this line on the matching form fields."""
        targets = {"schedule": "split_quantity_1", "line": None}
        for field, messages in errors.items():
            target = targets.get(field, field if field in self.fields else None)
            for message in messages:
                self.add_error(target, message)


class ApiTokenForm(forms.Form):
    supplier = forms.ModelChoiceField(queryset=None, empty_label=None)
    name = forms.CharField(max_length=100, help_text="The system that uses it, e.g. 'ERP connector'.")
    scopes = forms.MultipleChoiceField(choices=SupplierApiToken.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[SupplierApiToken.Scope.READ])
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=3650, label="Expires in (days)",
                                         help_text="Leave empty for a token that lasts until revoked.")

    def __init__(self, *args, suppliers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(pk__in=[s.pk for s in suppliers])
        if len(suppliers) == 1:
            self.fields["supplier"].widget = forms.HiddenInput()
            self.fields["supplier"].initial = suppliers[0].pk

    def expires_at(self):
        days = self.cleaned_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


class UploadForm(forms.Form):
    MAX_BYTES = 5 * 1024 * 1024

    file = forms.FileField(help_text="The filled-in CSV or Excel (.xlsx) file, at most 5 MB.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return upload


class ShipmentUploadForm(UploadForm):
    submit = forms.BooleanField(required=False, label="Submit it at once",
                                help_text="Leave unticked to save a draft you can check, label and submit on its page.")
