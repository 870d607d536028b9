"""Supplier portal pages for invoices: the list (with the ERP's status), a new invoice from an order or
a shipment (match preview first, then submit), one invoice. Rules live in the invoice service."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from collaboration import invoices, services
from collaboration.actors import Actor
from collaboration.documents import decimal_text, parse_invoice
from collaboration.errors import DomainError, NotFound
from collaboration.models import Channel
from collaboration.views import list_page

PAGE_SIZE = 25


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    return list_page(request, "collaboration/invoice_list.html", invoices.invoices_for_actor(actor=_actor(request), query=query),
                     invoices.invoice_rows, filters={"q": query}, size=PAGE_SIZE)


@login_required
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        invoice = invoices.invoice_get(actor=_actor(request), pk=pk)
    except NotFound:
        raise Http404(f"Invoice {pk} not found.") from None
    row = invoices.invoice_rows([invoice])[0]
    return render(request, "collaboration/invoice_detail.html", {
        "invoice": invoice, "row": row,
        "lines": invoice.lines.select_related("order_line__purchase_order").order_by("line_number"),
    })


def _number(value: str) -> str:
    """A decimal typed in the page's language as the document's decimal string (else as typed)."""
    text = formats.sanitize_separators(value.strip())
    try:
        return decimal_text(Decimal(text)) if text else ""
    except InvalidOperation:
        return value.strip()


@login_required
@require_http_methods(["GET", "POST"])
def invoice_new(request: HttpRequest) -> HttpResponse:
    """Start from `?po=NUMBER` or `?shipment=NUMBER`: the lines, preset with what is open to invoice."""
    actor = _actor(request)
    po_number, shipment_number = request.GET.get("po", "")[:35], request.GET.get("shipment", "")[:35]
    try:
        currency, lines = invoices.invoiceable_lines(actor=actor, po_number=po_number, shipment_number=shipment_number)
    except NotFound:
        raise Http404("Nothing to invoice from.") from None
    supplier_id = lines[0].order_line.purchase_order.supplier_id if lines else None
    header = {"number": "", "invoice_date": timezone.localdate().isoformat(), "tax_rate": "0"}
    rows = [{"index": index, "source": line, "include": line.quantity > 0,
             "quantity": formats.number_format(Decimal(decimal_text(line.quantity))),
             "unit_price": formats.number_format(Decimal(decimal_text(line.unit_price))), "reason": "", "errors": []}
            for index, line in enumerate(lines)]
    context = {"currency": currency, "po_number": po_number, "shipment_number": shipment_number, "header": header,
               "rows": rows, "preview": None, "errors": {}, "can_invoice": supplier_id is not None and actor.can_invoice(supplier_id)}
    if request.method == "POST":
        header.update({key: request.POST.get(key, "").strip() for key in header})
        positions = []
        for row in rows:
            row["include"] = request.POST.get(f"line-{row['index']}-include") == "1"
            row["quantity"] = request.POST.get(f"line-{row['index']}-quantity", "")
            row["unit_price"] = request.POST.get(f"line-{row['index']}-unit_price", "")
            row["reason"] = request.POST.get(f"line-{row['index']}-reason", "")
            if row["include"]:
                positions.append(row)
        data = {"number": header["number"], "invoice_date": header["invoice_date"], "currency": currency,
                "tax_rate": _number(header["tax_rate"]) or "0", "shipment": shipment_number,
                "lines": [{"purchase_order": row["source"].order_line.purchase_order.number,
                           "line": row["source"].order_line.line_number, "quantity": _number(row["quantity"]),
                           "unit_price": _number(row["unit_price"]), "reason": row["reason"]} for row in positions]}
        try:
            document = parse_invoice(data)
            if request.POST.get("action") == "submit":
                invoice = services.invoice_submit(supplier_id=supplier_id, document=document, actor=actor)
                messages.success(request, _("Invoice %(number)s is submitted; the buyer's ERP receives it.") % {"number": invoice.number})
                return redirect("collaboration:invoice-detail", pk=invoice.pk)
            preview = services.invoice_match(supplier_id=supplier_id, document=document)
            context["preview"] = preview
            for match, row in zip(preview.lines, positions):
                row["match"] = match
            context["errors"] = preview.errors()
        except DomainError as error:
            messages.error(request, error.message)
            context["errors"] = error.details
            status = error.status if error.status in (400, 403, 404, 409) else 400
            _errors_on_rows(error.details, positions)
            return render(request, "collaboration/invoice_new.html", context, status=status)
        _errors_on_rows(context["errors"], positions)
    return render(request, "collaboration/invoice_new.html", context)


def _errors_on_rows(details: dict, positions: list[dict]) -> None:
    """Line problems (by document position) onto the form's rows."""
    lines = details.get("lines")
    if not isinstance(lines, dict):
        return
    for position, problems in lines.items():
        if isinstance(problems, dict) and str(position).isdigit() and int(position) < len(positions):
            positions[int(position)]["errors"] = [message for messages_ in problems.values() for message in messages_]
