"""Supplier portal pages. Thin: read the request, call a selector or a service, render.

With htmx a view answers with the named fragment it changes; without it, the whole page,
so every URL works without JavaScript.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collaboration import invoices, selectors, services, spreadsheets
from collaboration.actors import Actor
from collaboration.errors import DomainError, InvalidDocument, NotFound
from collaboration.forms import ApiTokenForm, LineResponseForm, UploadForm
from collaboration.models import Channel, PurchaseOrder

PAGE_SIZE = 25
DETAIL_TEMPLATE = "collaboration/purchase_order_detail.html"


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("collaboration:purchase-order-list")


@login_required
@require_GET
def purchase_order_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in PurchaseOrder.Status.values:
        status = ""
    query = request.GET.get("q", "").strip()[:100]
    orders = selectors.purchase_orders_for_actor(actor=_actor(request), status=status, query=query)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "query": query,
        "statuses": PurchaseOrder.Status.choices,
    }
    template = "collaboration/purchase_order_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


def _detail_context(request: HttpRequest, number: str, *, line_number: int | None = None) -> dict:
    actor = _actor(request)
    try:
        lines_page = int(request.GET.get("lines", 1))
    except ValueError:
        lines_page = 1
    try:
        po = selectors.purchase_order_detail(actor=actor, number=number, lines_page=lines_page, line_number=line_number)
    except NotFound:
        raise Http404(f"Purchase order {number} not found.") from None
    rows = selectors.line_views(po, actor=actor)
    first = (max(lines_page, 1) - 1) * selectors.LINES_PER_PAGE
    return {
        "po": po,
        "rows": rows,
        "lines_page": max(lines_page, 1),
        "lines_first": first + 1,
        "lines_last": first + len(rows),
        "next_lines_page": max(lines_page, 1) + 1 if first + len(rows) < po.line_total else None,
        "next_lines_count": min(selectors.LINES_PER_PAGE, po.line_total - first - len(rows)),
        "drafted": po.draft_count,
        "can_acknowledge": actor.can_acknowledge(po.supplier_id),
        "revisions": po.revisions.all(),
        "acknowledgements": [ack for ack in po.acknowledgements.all() if ack.status != "draft"],
        "timeline": selectors.purchase_order_timeline(po=po),
        "invoices": invoices.invoices_of_order(po),
        "can_invoice": actor.can_invoice(po.supplier_id),
    }


@login_required
@require_GET
def purchase_order_detail(request: HttpRequest, number: str) -> HttpResponse:
    context = _detail_context(request, number)
    if request.htmx and "lines" in request.GET:
        return render(request, DETAIL_TEMPLATE + "#line-rows", context)  # "show more lines"
    if request.htmx and "panel" in request.GET:
        return render(request, DETAIL_TEMPLATE + "#answer-panel", context)  # after a draft changed
    return render(request, DETAIL_TEMPLATE, context)


def _row_after_change(request: HttpRequest, number: str, line_number: int) -> HttpResponse:
    """The changed row for htmx; the answer panel hears `draft-changed` and fetches itself again."""
    context, row = _row(request, number, line_number)
    response = render(request, DETAIL_TEMPLATE + "#line-row", {**context, "row": row})
    response["HX-Trigger"] = "draft-changed"
    return response


def _row(request: HttpRequest, number: str, line_number: int):
    context = _detail_context(request, number, line_number=line_number)
    row = next((row for row in context["rows"] if row.line.line_number == line_number), None)
    if row is None:
        raise Http404(f"Line {line_number} not found.")
    return context, row


@login_required
@require_http_methods(["GET", "POST"])
def line_response_edit(request: HttpRequest, number: str, line_number: int) -> HttpResponse:
    """Edit one line's draft response: inline with htmx, or as a page of its own without it."""
    context, row = _row(request, number, line_number)
    if request.method == "POST":
        form = LineResponseForm(request.POST, line_number=line_number)
        if form.is_valid():
            try:
                services.acknowledgement_draft_save(
                    number=number, revision=int(request.POST.get("revision", 0)), response=form.to_response(),
                    actor=_actor(request),
                )
            except InvalidDocument as error:
                form.add_service_errors(error.details.get("lines", {}).get(str(line_number), {}) or {"line": [error.message]})
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if request.htmx:
                    return _row_after_change(request, number, line_number)
                messages.success(request, _("Line %(line)s saved in your draft.") % {"line": line_number})
                return redirect("collaboration:purchase-order-detail", number=number)
    else:
        form = LineResponseForm.from_response(row.draft, line_number=line_number)
    context = {**context, "row": row, "form": form}
    if request.htmx:
        return render(request, DETAIL_TEMPLATE + "#line-edit", context)
    return render(request, "collaboration/line_response_page.html", context)


@login_required
@require_GET
def line_row(request: HttpRequest, number: str, line_number: int) -> HttpResponse:
    context, row = _row(request, number, line_number)
    return render(request, DETAIL_TEMPLATE + "#line-row", {**context, "row": row})


@login_required
@require_POST
def line_response_discard(request: HttpRequest, number: str, line_number: int) -> HttpResponse:
    try:
        services.acknowledgement_draft_discard(number=number, line=line_number, actor=_actor(request))
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
    if request.htmx:
        return _row_after_change(request, number, line_number)
    return redirect("collaboration:purchase-order-detail", number=number)


@login_required
@require_POST
def acknowledgement_submit(request: HttpRequest, number: str) -> HttpResponse:
    """Submit the draft ("submit responses") or the draft plus acceptance of every other open line."""
    accept_remaining = request.POST.get("accept_remaining") == "1"
    try:
        services.acknowledgement_draft_submit(
            number=number, revision=int(request.POST.get("revision", 0)), actor=_actor(request),
            accept_remaining=accept_remaining,
        )
    except NotFound:
        raise Http404(f"Purchase order {number} not found.") from None
    except InvalidDocument as error:
        lines = error.details.get("lines", {})
        for line, fields in lines.items():
            for messages_ in fields.values():
                for message in messages_:
                    messages.error(request, _("Line %(line)s: %(message)s") % {"line": line, "message": message})
        if not lines:
            messages.error(request, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        drafted = request.POST.get("drafted", "0")
        if not accept_remaining:
            messages.success(request, _("Your responses were submitted."))
        elif drafted.isdigit() and int(drafted) > 0:
            messages.success(request, ngettext(
                "Your %(count)s drafted line(s) were submitted and all other lines accepted.",
                "Your %(count)s drafted line(s) were submitted and all other lines accepted.", int(drafted),
            ) % {"count": drafted})
        else:
            messages.success(request, _("All remaining lines accepted."))
    return redirect("collaboration:purchase-order-detail", number=number)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """A supplier admin's API tokens: create (the value is shown once) and revoke."""
    actor = _actor(request)
    suppliers = selectors.suppliers_administered(actor=actor)
    form = ApiTokenForm(request.POST or None, suppliers=suppliers)
    created_value = None
    if request.method == "POST" and form.is_valid():
        try:
            token, created_value = services.api_token_create(
                supplier=form.cleaned_data["supplier"], name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"], expires_at=form.expires_at(), actor=actor,
            )
        except InvalidDocument as error:
            form.add_service_errors(error.details)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            form = ApiTokenForm(suppliers=suppliers)
    return render(request, "collaboration/api_tokens.html", {
        "form": form, "suppliers": suppliers, "created_value": created_value,
        "tokens": selectors.api_tokens_for_actor(actor=actor),
    })


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(token_id=token_id, actor=_actor(request))
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Token “%(name)s” revoked; it no longer works.") % {"name": token.name})
    return redirect("collaboration:api-tokens")


@login_required
@require_GET
def open_lines_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The lines waiting for an answer (all open POs, or ?po=NUMBER) as a spreadsheet to fill in."""
    number = request.GET.get("po") or None
    rows = spreadsheets.open_lines(actor=_actor(request), number=number)
    stem = f"open-lines-{number}" if number else "open-lines"
    content = spreadsheets.to_xlsx(rows) if fmt == "xlsx" else spreadsheets.to_csv(rows)
    return spreadsheet_download(content, fmt=fmt, stem=stem)


def list_page(request: HttpRequest, template: str, queryset, rows, *, filters: dict, size: int = 50) -> HttpResponse:
    """A searchable, paginated list: `rows` turns the page's objects into what the template shows
    (reading what they need for the whole page at once); `filters` are the request's own, kept in
    the pager's links. Buyers see a supplier column."""
    page = Paginator(queryset, size).get_page(request.GET.get("page"))
    return render(request, template, {
        **filters, "page": page, "rows": rows(list(page.object_list)),
        "query": urlencode({key: value for key, value in filters.items() if value}), "several_suppliers": request.user.is_staff,
    })


def spreadsheet_download(content: bytes, *, fmt: str, stem: str) -> HttpResponse:
    """A CSV or Excel file (`fmt` "csv" or "xlsx") as a download named `stem.fmt`."""
    content_type = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
                    else "text/csv; charset=utf-8")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def responses_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "columns": spreadsheets.COLUMNS}
    if request.method == "POST" and form.is_valid():
        try:
            applied, errors = spreadsheets.apply_upload(content=form.cleaned_data["file"].read(), actor=_actor(request))
        except spreadsheets.SpreadsheetError as error:
            form.add_error("file", str(error))
        else:
            if not errors:
                messages.success(request, ngettext("%(count)s line response submitted.", "%(count)s line responses submitted.",
                                                   applied) % {"count": applied})
                return redirect("collaboration:purchase-order-list")
            context["row_errors"] = errors
    return render(request, "collaboration/responses_upload.html", context, status=400 if context.get("row_errors") else 200)
