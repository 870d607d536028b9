"""The EDI admin: trading partners, and the interchange browser (raw text, parsed segments,
per-message outcome, the CONTRL answered, and the reprocess action)."""
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy as _

from edi import codec
from edi.inbound import ReprocessRefused, interchange_reprocess
from edi.models import Interchange, TradingPartner


def error_text(error: dict) -> str:
    """One syntax or content error of an interchange or message, as a line of the admin."""
    return gettext("%(code)s at segment %(segment)s (%(tag)s): %(text)s") % {
        "code": error["code"], "segment": error["segment"], "tag": error.get("tag", ""), "text": error["text"]}


@admin.register(TradingPartner)
class TradingPartnerAdmin(admin.ModelAdmin):
    list_display = ["supplier", "qualifier", "edi_id", "charset", "directory", "is_active", "inbound_dir", "outbound_dir"]
    list_filter = ["is_active", "charset", "directory"]
    search_fields = ["supplier__code", "supplier__name", "edi_id"]
    list_select_related = ["supplier"]
    readonly_fields = ["last_control_ref", "created_at"]


@admin.register(Interchange)
class InterchangeAdmin(admin.ModelAdmin):
    """What came in and went out, with its status, errors and answer; rejected ones can be run again."""

    list_display = ["created_at", "direction", "partner_code", "control_ref", "status", "types", "file_name"]
    list_filter = ["direction", "status", "partner"]
    search_fields = ["control_ref", "file_name", "sender"]
    list_select_related = ["partner__supplier"]
    readonly_fields = ["partner", "direction", "control_ref", "sender", "recipient", "status", "file_name", "message_types",
                       "created_at", "answer_link", "replies_to", "outcome", "errors_list", "segments", "raw_text"]
    exclude = ["raw", "errors", "messages", "answer"]
    actions = ["reprocess"]

    @admin.display(description=_("Partner"), ordering="partner__supplier__code")
    def partner_code(self, interchange: Interchange) -> str:
        return interchange.partner.supplier.code if interchange.partner else gettext("(unknown sender)")

    @admin.display(description=_("Messages"))
    def types(self, interchange: Interchange) -> str:
        return ", ".join(interchange.message_types)

    @admin.display(description=_("In answer to"))
    def replies_to(self, interchange: Interchange) -> str:
        answered = Interchange.objects.filter(answer=interchange).only("pk", "direction", "control_ref").first()
        if answered is None:
            return "—"
        return format_html('<a href="{}">{} {}</a>', reverse("admin:edi_interchange_change", args=[answered.pk]),
                           answered.get_direction_display(), answered.control_ref)

    @admin.display(description=_("Raw interchange"))
    def raw_text(self, interchange: Interchange) -> str:
        return bytes(interchange.raw).decode("latin-1")

    @admin.display(description=_("Answer (CONTRL)"))
    def answer_link(self, interchange: Interchange) -> str:
        if interchange.answer_id is None:
            return "—"
        answer = interchange.answer
        return format_html('<a href="{}">{} {} ({})</a>', reverse("admin:edi_interchange_change", args=[answer.pk]),
                           answer.get_direction_display(), answer.control_ref, answer.get_status_display())

    @admin.display(description=_("Messages"))
    def outcome(self, interchange: Interchange) -> str:
        results = list(interchange.results.all())
        if not results:
            return "—"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            gettext("Message"), gettext("Type"), gettext("Status"), gettext("Errors"), gettext("Result"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
                (m.ref, m.type, m.status, "; ".join(error_text(e) for e in m.errors) or "—",
                 ", ".join(f"{key}: {value}" for key, value in m.result.items()) or "—")
                for m in results
            )),
        )

    @admin.display(description=_("Errors"))
    def errors_list(self, interchange: Interchange) -> str:
        if not interchange.errors:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} {}</li>", (
            (e.get("level", ""), error_text(e)) for e in interchange.errors)))

    @admin.display(description=_("Parsed segments"))
    def segments(self, interchange: Interchange) -> str:
        rows = []
        for parsed in codec.parse_file(bytes(interchange.raw)):
            for message in parsed.messages:
                rows += [(segment.position, message.ref, segment.tag,
                          " + ".join(":".join(e) if isinstance(e, tuple) else e for e in segment.elements))
                         for segment in message.segments]
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("Message"), gettext("Segment"), gettext("Data elements"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows[:2000]),
        )

    @admin.action(description=_("Run the selected rejected interchanges again"), permissions=["reprocess"])
    def reprocess(self, request, queryset):
        from edi.outbound import write_pending

        for interchange in queryset.order_by("id"):
            try:
                result = interchange_reprocess(interchange_id=interchange.pk)
            except ReprocessRefused as error:
                self.message_user(request, str(error), messages.WARNING)
                continue
            # The status in lower case, as in a sentence ("Interchange IC0001: partially accepted.").
            status = Interchange.Status(result.status).label.lower()
            self.message_user(request, gettext("Interchange %(reference)s: %(status)s.")
                              % {"reference": interchange.control_ref, "status": status},
                              messages.SUCCESS if result.status == "accepted" else messages.WARNING)
        write_pending()

    def has_reprocess_permission(self, request) -> bool:
        return request.user.has_perm("edi.change_interchange")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of what was exchanged is kept
