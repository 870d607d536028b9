"""Supplier portal pages for shipment notices (ASNs): list, start from open lines, build the packing
(htmx swaps the builder in place; without JavaScript the whole page comes back), submit, correct,
cancel, labels and packing list, spreadsheet upload. Rules live in the shipment service.
"""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collaboration import labels, selectors, services, shipment_spreadsheets, spreadsheets
from collaboration.actors import Actor
from collaboration.documents import parse_shipment
from collaboration.errors import DomainError, InvalidDocument, NotFound
from collaboration.forms import ShipmentUploadForm
from collaboration.models import Channel, Package, Shipment
from collaboration.services.quality_documents import MissingDocuments, type_label
from collaboration.shipment_editor import KINDS, Editor
from collaboration.views import spreadsheet_download

PAGE_SIZE = 25
EDITOR_TEMPLATE = "collaboration/shipment_edit.html"
LABEL_SIZES = {"a6": gettext_lazy("A6 (105 × 148 mm)"), "4x6": gettext_lazy("4 × 6 in"),
               "a4": gettext_lazy("A4, four labels a page")}


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


def _shipment(request: HttpRequest, number: str) -> Shipment:
    try:
        return selectors.shipment_detail(actor=_actor(request), number=number)
    except NotFound:
        raise Http404(f"Shipment {number} not found.") from None


@login_required
@require_GET
def shipment_list(request: HttpRequest) -> HttpResponse:
    shipments = selectors.shipments_for_actor(actor=_actor(request))
    status = request.GET.get("status", "")
    if status in Shipment.Status.values:
        shipments = shipments.filter(status=status)
    page = Paginator(shipments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "collaboration/shipment_list.html", {
        "page": page, "status": status, "statuses": Shipment.Status.choices, "query": urlencode({"status": status}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def shipment_new(request: HttpRequest) -> HttpResponse:
    """Start an ASN: pick open acknowledged lines of one ship-to, name it, date it; saved as a draft."""
    actor = _actor(request)
    shippable = selectors.shippable_lines(actor=actor)
    today = date.today()
    values = {"number": "", "despatch_date": today.isoformat(), "expected_arrival": (today + timedelta(days=2)).isoformat(),
              "carrier": "", "tracking_number": ""}
    errors: list[str] = []
    chosen: dict[int, str] = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in values}
        by_pk = {entry.line.pk: entry for entry in shippable}
        picked = [int(value) for value in request.POST.getlist("pick") if value.isdigit()]
        chosen = {pk: request.POST.get(f"quantity-{pk}", "").strip() for pk in picked if pk in by_pk}
        ship_tos = {by_pk[pk].line.purchase_order.ship_to for pk in chosen}
        if not chosen:
            errors.append(_("Tick the lines this shipment carries."))
        elif len(ship_tos) > 1:
            errors.append(_("One shipment goes to one ship-to; you ticked lines for %(ship_tos)s.")
                          % {"ship_tos": ", ".join(sorted(ship_tos))})
        else:
            document = {**values, "ship_to": ship_tos.pop(), "lines": [
                {"line": n, "purchase_order": by_pk[pk].line.purchase_order.number, "order_line": by_pk[pk].line.line_number,
                 "quantity": quantity or str(by_pk[pk].open_quantity)}
                for n, (pk, quantity) in enumerate(chosen.items(), start=1)
            ]}
            try:
                shipment = services.shipment_save_draft(document=parse_shipment(document), actor=actor)
            except InvalidDocument as error:
                errors += _messages(error, lines=[by_pk[pk].line for pk in chosen])
            except DomainError as error:
                errors.append(error.message)
            else:
                messages.success(request, _("Draft %(number)s saved. Now pack it: add pallets and cartons.")
                                 % {"number": shipment.number})
                return redirect("collaboration:shipment-edit", number=shipment.number)
    return render(request, "collaboration/shipment_new.html", {
        "shippable": shippable, "values": values, "errors": errors, "chosen": chosen,
    }, status=400 if errors else 200)


def _messages(error: InvalidDocument, *, lines) -> list[str]:
    """A document error of the start page as sentences naming the order line."""
    found = [error.message] if not error.details else []
    for name, value in error.details.items():
        if name == "lines" and isinstance(value, dict):
            for position, fields in value.items():
                texts = [text for texts in fields.values() for text in texts]
                if position.isdigit() and int(position) < len(lines):
                    line = lines[int(position)]
                    texts = [_("%(order)s line %(line)s: %(message)s")
                             % {"order": line.purchase_order.number, "line": line.line_number, "message": text}
                             for text in texts]
                found += texts
        else:
            found += [text for text in (value if isinstance(value, list) else [str(value)])]
    return found


@login_required
@require_GET
def shipment_detail(request: HttpRequest, number: str) -> HttpResponse:
    shipment = _shipment(request, number)
    actor = _actor(request)
    packages = list(shipment.packages.all())
    return render(request, "collaboration/shipment_detail.html", {
        "shipment": shipment,
        "lines": list(shipment.lines.all()),
        "tree": _tree(packages),
        "can_ship": actor.can_ship(shipment.supplier_id),
        "can_invoice": actor.can_invoice(shipment.supplier_id),
        "label_sizes": LABEL_SIZES,
        "cases": selectors.shipment_receipt_cases(shipment=shipment),
    })


def _tree(packages: list[Package]) -> list[tuple[int, Package]]:
    """Packages in nesting order with their depth: each pallet followed by what sits on it."""
    children: dict[int | None, list[Package]] = {}
    for package in packages:
        children.setdefault(package.parent_id, []).append(package)
    ordered: list[tuple[int, Package]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for package in children.get(parent_id, []):
            ordered.append((depth, package))
            walk(package.pk, depth + 1)

    walk(None, 0)
    return ordered


@login_required
@require_http_methods(["GET", "POST"])
def shipment_edit(request: HttpRequest, number: str) -> HttpResponse:
    """The builder: lines, packages and contents of a draft, or a correction of a submitted ASN."""
    shipment = _shipment(request, number)
    actor = _actor(request)
    if not actor.can_ship(shipment.supplier_id) or shipment.status == Shipment.Status.CANCELLED:
        messages.error(request, _("Shipment %(number)s cannot be changed here.") % {"number": number})
        return redirect("collaboration:shipment-detail", number=number)
    shippable = selectors.shippable_lines(actor=actor, ship_to=shipment.ship_to, exclude=shipment)
    if request.method == "GET":
        editor = Editor.from_shipment(shipment, shippable=shippable)
        return _render_editor(request, shipment, editor, shippable)
    editor = Editor.from_post(request.POST, shipment=shipment, shippable=shippable)
    action = request.POST.get("action", "save")
    if action == "add_packages":
        try:
            count = int(request.POST.get("quick-count", "0"))
        except ValueError:
            count = 0
        editor.add_packages(count=count, kind=request.POST.get("quick-kind", "carton"),
                            parent=request.POST.get("quick-parent", ""),
                            line=_int_or_none(request.POST.get("quick-line")),
                            quantity=request.POST.get("quick-quantity", "").strip())
        if editor.errors:
            return _render_editor(request, shipment, editor, shippable, status=400)
        if shipment.status == Shipment.Status.SUBMITTED:
            # Packing a submitted ASN is a correction in the making: it goes out on "Submit correction".
            return _render_editor(request, shipment, editor, shippable)
    submit = action == "submit" or shipment.status == Shipment.Status.SUBMITTED
    try:
        document = parse_shipment(editor.document())
        save = services.shipment_submit if submit else services.shipment_save_draft
        saved = save(document=document, actor=actor)
    except InvalidDocument as error:
        editor.add_errors(error.details or {"non_field_errors": [error.message]})
        if error.details:
            editor.errors.insert(0, error.message)
        uploads = _document_uploads(error, shipment=shipment)
        return _render_editor(request, shipment, editor, shippable, status=400, document_uploads=uploads)
    except DomainError as error:
        editor.errors.append(error.message)
        return _render_editor(request, shipment, editor, shippable, status=400)
    if submit:
        if saved.revision > 1:
            text = _("Shipment %(number)s corrected (revision %(revision)d); the buyer's ERP is told.")
        else:
            text = _("Shipment %(number)s submitted; the buyer's ERP is told.")
        messages.success(request, text % {"number": saved.number, "revision": saved.revision})
        return _go(request, reverse("collaboration:shipment-detail", args=[saved.number]))
    messages.success(request, _("Draft %(number)s saved.") % {"number": saved.number})
    return _go(request, reverse("collaboration:shipment-edit", args=[saved.number]))


def _go(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _document_uploads(error: InvalidDocument, *, shipment: Shipment) -> list[tuple[str, str]]:
    """For a submit refused for missing quality documents: (what, upload URL with the form filled in)."""
    if not isinstance(error, MissingDocuments):
        return []
    base = reverse("collaboration:quality-document-upload")
    wanted = dict.fromkeys((need.document_type, need.item, need.lot) for need in error.missing)
    return [
        ((_("%(type)s for %(item)s lot %(lot)s") if lot else _("%(type)s for %(item)s"))
         % {"type": type_label(kind), "item": item, "lot": lot},
         f"{base}?{urlencode({'document_type': kind, 'item': item, 'lot': lot, 'shipment': shipment.number})}")
        for kind, item, lot in wanted
    ]


def _render_editor(request: HttpRequest, shipment: Shipment, editor: Editor, shippable, *, status: int = 200,
                   document_uploads: list[tuple[str, str]] = ()) -> HttpResponse:
    in_shipment = {line.order_line.pk for line in editor.lines}
    template = EDITOR_TEMPLATE + "#editor" if request.htmx else EDITOR_TEMPLATE
    return render(request, template, {
        "shipment": shipment, "editor": editor, "kinds": KINDS,
        "addable": [entry for entry in shippable if entry.line.pk not in in_shipment],
        "blank_packages": range(len(editor.packages), len(editor.packages) + 2),
        "label_sizes": LABEL_SIZES, "document_uploads": document_uploads,
    }, status=status)


@login_required
@require_POST
def shipment_cancel(request: HttpRequest, number: str) -> HttpResponse:
    shipment = _shipment(request, number)
    try:
        services.shipment_cancel(number=number, supplier_id=shipment.supplier_id, actor=_actor(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Shipment %(number)s cancelled.") % {"number": number})
    return redirect("collaboration:shipment-detail", number=number)


@login_required
@require_GET
def shipment_labels(request: HttpRequest, number: str) -> HttpResponse:
    shipment = _shipment(request, number)
    size = request.GET.get("size", "a6")
    if size not in LABEL_SIZES:
        size = "a6"
    if not shipment.packages.exists():
        messages.error(request, _("Shipment %(number)s has no packages to label yet.") % {"number": number})
        return redirect("collaboration:shipment-detail", number=number)
    return _pdf(labels.package_labels_pdf(shipment, page=size), f"labels-{shipment.number}-{size}.pdf")


@login_required
@require_GET
def shipment_packing_list(request: HttpRequest, number: str) -> HttpResponse:
    shipment = _shipment(request, number)
    return _pdf(labels.packing_list_pdf(shipment), f"packing-list-{shipment.number}.pdf")


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    # inline: a browser shows it with its print button; the name is kept for "save as".
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
@require_GET
def shipment_template(request: HttpRequest, fmt: str) -> HttpResponse:
    content = shipment_spreadsheets.template_xlsx() if fmt == "xlsx" else shipment_spreadsheets.template_csv()
    return spreadsheet_download(content, fmt=fmt, stem="shipment-template")


@login_required
@require_http_methods(["GET", "POST"])
def shipment_upload(request: HttpRequest) -> HttpResponse:
    form = ShipmentUploadForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "columns": shipment_spreadsheets.COLUMNS}
    if request.method == "POST" and form.is_valid():
        submit = form.cleaned_data["submit"]
        try:
            shipment, errors = shipment_spreadsheets.apply_shipment_upload(
                content=form.cleaned_data["file"].read(), actor=_actor(request), submit=submit)
        except spreadsheets.SpreadsheetError as error:
            form.add_error("file", str(error))
        else:
            if not errors:
                text = (_("Shipment %(number)s submitted from the file.") if submit
                        else _("Shipment %(number)s saved as a draft from the file."))
                messages.success(request, text % {"number": shipment.number})
                return redirect("collaboration:shipment-detail", number=shipment.number)
            context["row_errors"] = errors
    return render(request, "collaboration/shipment_upload.html", context, status=400 if context.get("row_errors") else 200)
