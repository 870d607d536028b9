"""The printed side of an ASN: GS1 logistic labels (one per package, its SSCC as a GS1-128
barcode) and the packing list, both as PDF, from one load of the shipment's package tree.
"""
from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _, gettext_lazy, ngettext, ngettext_lazy, pgettext, pgettext_lazy
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A6, inch
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from collaboration.documents import decimal_text
from collaboration.errors import DomainError, in_sentence
from collaboration.models import Package, PackageContent, Shipment, ShipmentLine

LABEL_PAGES = {"a6": A6, "4x6": (4 * inch, 6 * inch), "a4": A4}

# GS1 General Specifications, SSCC on logistic labels: X from 0.495 to 0.940 mm, bars at least
# 31.75 mm high, quiet zones of 10X. "(00)" + 18 digits with FNC1 is 156 modules in reportlab's
# encoding (start C, FNC1, ten digit pairs, check, stop), 176 with the quiet zones: 87.1 mm at the
# smallest X, which leaves room on the narrowest label (4 x 6 inch, 101.6 mm).
BARCODE_X = 0.495 * mm
BARCODE_HEIGHT = 32 * mm
QUIET_ZONE_MODULES = 10

REGULAR, BOLD = "Helvetica", "Helvetica-Bold"
GREY = colors.Color(0.35, 0.35, 0.35)
ELLIPSIS = "\u2026"  # in WinAnsiEncoding, so Helvetica prints it


class NothingToLabel(DomainError):
    code = "nothing_to_label"
    status = 409


@dataclass
class PackedPackage:
    """A package with what it holds, placed in the shipment's tree."""

    package: Package
    number: int  # 1-based, in position order, as in "3 of 200"
    parent: PackedPackage | None = None
    children: list[PackedPackage] = field(default_factory=list)
    contents: list[tuple[ShipmentLine, Decimal]] = field(default_factory=list)

    @property
    def depth(self) -> int:
        depth, parent = 0, self.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return depth

    def descendants(self) -> Iterator[PackedPackage]:
        for child in self.children:
            yield child
            yield from child.descendants()

    def all_contents(self) -> Iterator[tuple[ShipmentLine, Decimal]]:
        yield from self.contents
        for child in self.descendants():
            yield from child.contents


@dataclass
class PackingTree:
    """A shipment's lines and packages, linked in memory: what labels and packing lists print."""

    shipment: Shipment
    lines: list[ShipmentLine]
    packages: list[PackedPackage]  # position order
    roots: list[PackedPackage]

    def walk(self) -> Iterator[PackedPackage]:
        """Depth first, each package followed by what sits in it, as a packing list reads."""
        stack = list(reversed(self.roots))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def unpacked(self) -> list[tuple[ShipmentLine, Decimal]]:
        """Shipped quantities no package holds (all of an unpacked shipment, the rest of a draft)."""
        packed: dict[int, Decimal] = defaultdict(Decimal)
        for node in self.packages:
            for line, quantity in node.contents:
                packed[line.pk] += quantity
        return [(line, line.quantity - packed[line.pk]) for line in self.lines if line.quantity > packed[line.pk]]


def packing_tree(shipment: Shipment) -> PackingTree:
    """The shipment's lines, packages and contents in three queries (four if its supplier is not
    loaded yet), whatever the number of packages; the tree is linked in memory."""
    shipment.supplier  # noqa: B018 - loaded now, not once per label
    lines = list(
        ShipmentLine.objects.filter(shipment=shipment)
        .select_related("order_line__purchase_order")
        .order_by("line_number")
    )
    by_line = {line.pk: line for line in lines}
    packages = list(Package.objects.filter(shipment=shipment).order_by("position", "pk"))
    nodes = {package.pk: PackedPackage(package=package, number=number) for number, package in enumerate(packages, 1)}
    contents = PackageContent.objects.filter(package__shipment=shipment).order_by("pk")
    for package_id, line_id, quantity in contents.values_list("package_id", "shipment_line_id", "quantity"):
        nodes[package_id].contents.append((by_line[line_id], quantity))
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.package.parent_id)
        if parent is None:
            roots.append(node)
        else:
            node.parent = parent
            node.package.parent = parent.package  # so package.parent costs no query
            parent.children.append(node)
    return PackingTree(shipment=shipment, lines=lines, packages=list(nodes.values()), roots=roots)


def _quantity_text(quantity: Decimal, uom: str) -> str:
    return f"{decimal_text(quantity)} {uom}"


def _order_line_text(line: ShipmentLine) -> str:
    return f"{line.order_line.purchase_order.number} / {line.order_line.line_number}"


KIND_NOUNS = {
    "pallet": pgettext_lazy("package kind, inside a sentence", "pallet"),
    "carton": pgettext_lazy("package kind, inside a sentence", "carton"),
    "crate": pgettext_lazy("package kind, inside a sentence", "crate"),
    "other": pgettext_lazy("package kind, inside a sentence", "package"),
}
KIND_COUNTS = {
    "pallet": ngettext_lazy("%(count)s pallet", "%(count)s pallets", "count"),
    "carton": ngettext_lazy("%(count)s carton", "%(count)s cartons", "count"),
    "crate": ngettext_lazy("%(count)s crate", "%(count)s crates", "count"),
    "other": ngettext_lazy("%(count)s package", "%(count)s packages", "count"),
}


def _kind_text(kind: str, count: int | None = None) -> str:
    if count is None:
        return str(KIND_NOUNS[kind])
    return KIND_COUNTS[kind] % {"count": count}


def _holds_text(kinds: Counter) -> str:
    return _("Holds %(packages)s") % {"packages": ", ".join(_kind_text(kind, count) for kind, count in kinds.items())}


def _item_totals(contents: Iterable[tuple[ShipmentLine, Decimal]]) -> list[tuple[str, str, Decimal, str]]:
    """(item, uom, quantity, lot) per item and unit, in the order first met."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    lots: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line, quantity in contents:
        key = (line.order_line.item, line.order_line.uom)
        totals[key] += quantity
        if line.lot and line.lot not in lots[key]:
            lots[key].append(line.lot)
    return [(item, uom, quantity, _lots_text(lots[item, uom])) for (item, uom), quantity in totals.items()]


def _lots_text(lots: list[str]) -> str:
    # One lot named out of several would read as the only one.
    if len(lots) > 1:
        return ngettext("%(count)s lot", "%(count)s lots", len(lots)) % {"count": len(lots)}
    return lots[0] if lots else ""


def sscc_grouped(sscc: str, *, company_prefix: str) -> str:
    """"3 4012345 000000001 8" when the prefix is known to be in it, the 18 digits otherwise."""
    if company_prefix and sscc[1:1 + len(company_prefix)] == company_prefix:
        return f"{sscc[0]} {company_prefix} {sscc[1 + len(company_prefix):-1]} {sscc[-1]}"
    return sscc


def _fit(text: str, font: str, size: float, width: float) -> str:
    """The text, cut with an ellipsis where it would be wider than `width`."""
    if stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if stringWidth(text[:middle].rstrip() + ELLIPSIS, font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS


def _wrap(text: str, font: str, size: float, width: float, max_lines: int | None = None) -> list[str]:
    """Lines no wider than `width`: broken at spaces, long words broken anywhere, the last kept
    line cut with an ellipsis when `max_lines` leaves some out."""
    lines: list[str] = []
    for line in simpleSplit(text, font, size, width) or [""]:
        while stringWidth(line, font, size) > width and len(line) > 1:
            cut = len(_fit(line, font, size, width)) - 1  # what fits, ellipsis aside
            cut = max(cut, 1)
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1].rstrip() + ELLIPSIS, font, size, width)
    return lines


def package_labels_pdf(shipment: Shipment, *, page: str = "a6", packages: Iterable[Package] | None = None) -> bytes:
    """One GS1 logistic label per package: all of the shipment's in position order, or the given
    ones in the given order. `page`: "a6", "4x6" (a label per page) or "a4" (four A6 labels a sheet)."""
    if page not in LABEL_PAGES:
        raise ValueError(f"Label page {page!r} is not one of {', '.join(LABEL_PAGES)}.")
    tree = packing_tree(shipment)
    by_pk = {node.package.pk: node for node in tree.packages}
    if packages is None:
        chosen = tree.packages
    else:
        chosen = []
        for package in packages:
            if package.pk not in by_pk:
                raise ValueError(f"Package {package.reference} is not one of shipment {shipment.number}'s.")
            chosen.append(by_pk[package.pk])
    if not chosen:
        raise NothingToLabel(_("Shipment %(number)s has no packages to label.") % {"number": shipment.number})

    buffer = io.BytesIO()
    page_width, page_height = LABEL_PAGES[page]
    canvas = Canvas(buffer, pagesize=(page_width, page_height), pageCompression=1)
    canvas.setTitle(_("Labels %(number)s rev %(revision)s") % {"number": shipment.number, "revision": shipment.revision})
    canvas.setAuthor(shipment.supplier.name)
    label = _LabelPainter(tree)
    if page == "a4":
        width, height = page_width / 2, page_height / 2
        # In reading order, so a sheet's labels follow the package order.
        cells = [(0, height), (width, height), (0, 0), (width, 0)]
        for start in range(0, len(chosen), len(cells)):
            _cutting_guides(canvas, page_width, page_height)
            for node, (x, y) in zip(chosen[start:start + len(cells)], cells):
                label.draw(canvas, node, x=x, y=y, width=width, height=height)
            canvas.showPage()
    else:
        for node in chosen:
            label.draw(canvas, node, x=0, y=0, width=page_width, height=page_height)
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _cutting_guides(canvas: Canvas, page_width: float, page_height: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(colors.lightgrey)
    canvas.setLineWidth(0.25)
    canvas.setDash(2, 3)
    canvas.line(page_width / 2, 0, page_width / 2, page_height)
    canvas.line(0, page_height / 2, page_width, page_height / 2)
    canvas.restoreState()


class _LabelPainter:
    """Draws labels in the GS1 logistic label layout: who ships to whom on top, the package in
    words in the middle, the SSCC barcode at the bottom."""

    margin = 4 * mm
    top_height = 27 * mm
    # barcode, the interpretation under it and the gaps around them
    bottom_height = BARCODE_HEIGHT + 11 * mm
    row = 3.9 * mm  # a contents row at 8 pt

    def __init__(self, tree: PackingTree) -> None:
        self.tree = tree
        self.shipment = tree.shipment
        supplier = self.shipment.supplier
        self.company_prefix = supplier.gs1_company_prefix or settings.GS1_COMPANY_PREFIX
        self.count = len(tree.packages)

    def draw(self, canvas: Canvas, node: PackedPackage, *, x: float, y: float, width: float, height: float) -> None:
        canvas.saveState()
        canvas.translate(x, y)
        inner = width - 2 * self.margin
        top = height - self.margin
        bottom_top = self.margin + self.bottom_height
        middle_top = top - self.top_height
        self._top(canvas, node, left=self.margin, top=top, width=inner)
        self._rule(canvas, middle_top, width)
        self._middle(canvas, node, left=self.margin, top=middle_top, bottom=bottom_top, width=inner)
        self._rule(canvas, bottom_top, width)
        self._barcode(canvas, node, width=width, top=bottom_top)
        canvas.restoreState()

    def _rule(self, canvas: Canvas, y: float, width: float) -> None:
        canvas.setLineWidth(0.8)
        canvas.line(self.margin, y, width - self.margin, y)

    @staticmethod
    def _text(canvas: Canvas, x: float, y: float, text: str, *, font: str = REGULAR, size: float = 8,
              width: float | None = None, colour=colors.black) -> None:
        canvas.setFont(font, size)
        canvas.setFillColor(colour)
        canvas.drawString(x, y, text if width is None else _fit(text, font, size, width))

    def _title(self, canvas: Canvas, text: str, x: float, y: float) -> None:
        self._text(canvas, x, y, text.upper(), size=6.5, colour=GREY)

    def _top(self, canvas: Canvas, node: PackedPackage, *, left: float, top: float, width: float) -> None:
        supplier = self.shipment.supplier
        column = width * 0.56
        right = left + column + 3 * mm
        right_width = width - column - 3 * mm

        self._title(canvas, _("From"), left, top - 7)
        y = top - 17
        for line in _wrap(supplier.name, BOLD, 9, column, max_lines=2):
            self._text(canvas, left, y, line, font=BOLD, size=9)
            y -= 10
        self._text(canvas, left, y, supplier.code, size=7.5, width=column)

        # The ship-to is what the carrier and the dock sort by: large when it fits, else wrapped
        # smaller rather than cut.
        self._title(canvas, _("To"), right, top - 7)
        ship_to = self.shipment.ship_to
        if stringWidth(ship_to, BOLD, 14) <= right_width:
            self._text(canvas, right, top - 21, ship_to, font=BOLD, size=14)
        else:
            for index, line in enumerate(_wrap(ship_to, BOLD, 10, right_width, max_lines=3)):
                self._text(canvas, right, top - 18 - 11 * index, line, font=BOLD, size=10)

        baseline = top - self.top_height + 4 * mm
        self._title(canvas, _("Shipment"), left, baseline + 11)
        shipment_text = self._shipment_text()
        size = 10 if stringWidth(shipment_text, BOLD, 10) <= column else 8
        self._text(canvas, left, baseline, shipment_text, font=BOLD, size=size, width=column)
        self._title(canvas, _("Package"), right, baseline + 11)
        self._text(canvas, right, baseline, _("%(number)s of %(count)s") % {"number": node.number, "count": self.count},
                   font=BOLD, size=10, width=right_width)

    def _shipment_text(self) -> str:
        shipment = self.shipment
        text = _("%(number)s  rev %(revision)s") % {"number": shipment.number, "revision": shipment.revision}
        if shipment.status != Shipment.Status.SUBMITTED:
            text += f" ({in_sentence(shipment.get_status_display())})"
        return text

    def _middle(self, canvas: Canvas, node: PackedPackage, *, left: float, top: float, bottom: float,
                width: float) -> None:
        package = node.package
        y = top - 9
        self._title(canvas, "SSCC", left, y)
        y -= 15
        self._text(canvas, left, y, sscc_grouped(package.sscc, company_prefix=self.company_prefix), font=BOLD, size=14)
        y -= 14
        self._text(canvas, left, y, f"{_kind_text(package.kind).capitalize()} {package.reference}", font=BOLD, size=10,
                   width=width)
        if node.parent is not None:
            y -= 11
            parent = node.parent.package
            self._text(canvas, left, y, _("on %(kind)s %(reference)s  (SSCC %(sscc)s)")
                       % {"kind": _kind_text(parent.kind), "reference": parent.reference, "sscc": parent.sscc},
                       width=width)

        # The despatch date sits at the foot of the block; the contents take what is left above it.
        footer = bottom + 2.5 * mm
        self._title(canvas, _("Despatch date"), left, footer + 9)
        self._text(canvas, left, footer, self.shipment.despatch_date.isoformat(), font=BOLD, size=10)

        y -= 15
        self._title(canvas, _("Contents"), left, y)
        self._contents(canvas, node, left=left, top=y - 3, bottom=footer + 17, width=width)

    def _contents(self, canvas: Canvas, node: PackedPackage, *, left: float, top: float, bottom: float,
                  width: float) -> None:
        if node.children:
            kinds = Counter(child.package.kind for child in node.descendants())
            summary = _holds_text(kinds)
            header = (_("Item"), "", _("Quantity"), _("Lot"))
            rows = [(item, "", _quantity_text(quantity, uom), lot)
                    for item, uom, quantity, lot in _item_totals(node.all_contents())]
        elif node.contents:
            summary = ""
            header = (_("PO / line"), _("Item"), _("Quantity"), _("Lot"))
            rows = [(_order_line_text(line), line.order_line.item, _quantity_text(quantity, line.order_line.uom),
                     line.lot) for line, quantity in node.contents]
        else:
            self._text(canvas, left, top - self.row, _("Empty"), size=9)
            return

        y = top
        if summary:
            y -= self.row + 1
            self._text(canvas, left, y, summary, font=BOLD, size=9, width=width)
        # PO / line and item share the left part when both are there; a pallet's item takes it all.
        shares = (0.25, 0.29, 0.20, 0.26) if header[1] else (0.54, 0, 0.20, 0.26)
        edges = [left + width * sum(shares[:i]) for i in range(len(shares))]
        gap = 1.5 * mm

        def cells(values: tuple[str, ...], size: float, colour=colors.black) -> None:
            canvas.setFont(REGULAR, size)
            canvas.setFillColor(colour)
            for index, (value, edge, share) in enumerate(zip(values, edges, shares)):
                if not share or not value:
                    continue
                text = _fit(value, REGULAR, size, width * share - gap)
                if index == 2:  # quantities right-aligned, so their digits line up
                    canvas.drawRightString(edge + width * share - gap, y, text)
                else:
                    canvas.drawString(edge, y, text)

        y -= self.row
        cells(header, 6.5, GREY)
        room = int((y - bottom) // self.row)
        shown = rows if len(rows) <= room else rows[:max(room - 1, 0)]
        for values in shown:
            y -= self.row
            cells(values, 8)
        if len(shown) < len(rows):
            y -= self.row
            self._text(canvas, left, y, _("%(ellipsis)s and %(count)s more") % {"ellipsis": ELLIPSIS, "count": len(rows) - len(shown)},
                       size=8)

    def _barcode(self, canvas: Canvas, node: PackedPackage, *, width: float, top: float) -> None:
        quiet = QUIET_ZONE_MODULES * BARCODE_X
        barcode = Code128("\xf100" + node.package.sscc, barWidth=BARCODE_X, barHeight=BARCODE_HEIGHT,
                          quiet=True, lquiet=quiet, rquiet=quiet, humanReadable=False)
        if barcode.width > width:
            raise ValueError(f"An SSCC barcode of {barcode.width / mm:.1f} mm is wider than the label "
                             f"({width / mm:.1f} mm).")
        interpretation = f"(00) {node.package.sscc}"
        barcode_bottom = top - 3 * mm - BARCODE_HEIGHT
        canvas.setFillColor(colors.black)
        barcode.drawOn(canvas, (width - barcode.width) / 2, barcode_bottom)
        canvas.setFont(REGULAR, 11)
        canvas.drawCentredString(width / 2, barcode_bottom - 5 * mm, interpretation)


PAGE_MARGIN = 12 * mm
FRAME_PADDING = 6  # platypus' default around the frame; the footer lines up with the tables
TEXT = ParagraphStyle("packing-list", fontName=REGULAR, fontSize=8, leading=10)
HEADING = ParagraphStyle("packing-list-heading", parent=TEXT, fontName=BOLD, fontSize=10, leading=13, spaceBefore=8,
                         spaceAfter=3)
TITLE = ParagraphStyle("packing-list-title", parent=TEXT, fontName=BOLD, fontSize=15, leading=19, spaceAfter=6)

# Column widths in mm; each table adds up to 181 mm, the frame of an A4 page within the margins
# and platypus' frame padding.
PACKAGE_COLUMNS = ((gettext_lazy("Package"), 26), ("SSCC", 30), (gettext_lazy("PO / line"), 22), (gettext_lazy("Item"), 23),
                   (gettext_lazy("Description"), 37), (gettext_lazy("Quantity"), 15), (gettext_lazy("UoM"), 11),
                   (gettext_lazy("Lot"), 17))
TOTAL_COLUMNS = ((gettext_lazy("Purchase order"), 27), (pgettext_lazy("packing list column, 10 mm wide", "Line"), 10),
                 (gettext_lazy("Item"), 25), (gettext_lazy("Description"), 52), (gettext_lazy("Shipped"), 17), (gettext_lazy("Packed"), 17),
                 (gettext_lazy("UoM"), 13), (gettext_lazy("Packages"), 20))
CELL_FONT_SIZE = 7.5
SHADE = colors.Color(0.92, 0.92, 0.92)
CELL_PADDING = 2
SERIAL_LINES_A_ROW = 6


def packing_list_pdf(shipment: Shipment) -> bytes:
    """The packing list: the shipment's header, its packages as a tree with what each holds, what
    is not packed, and the totals per purchase order line; A4, header rows repeated on every page."""
    tree = packing_tree(shipment)
    supplier = shipment.supplier
    title = _("Packing list %(number)s rev %(revision)s") % {"number": shipment.number, "revision": shipment.revision}
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=PAGE_MARGIN, rightMargin=PAGE_MARGIN, topMargin=PAGE_MARGIN,
        bottomMargin=PAGE_MARGIN + 6 * mm, title=title, author=supplier.name,
    )
    footer = _fit(f"{title} \u00b7 {supplier.name}", REGULAR, 7, 130 * mm)

    def on_page(canvas: Canvas, _document) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7)
        canvas.setFillColor(GREY)
        canvas.drawString(PAGE_MARGIN + FRAME_PADDING, PAGE_MARGIN, footer)
        canvas.restoreState()

    story = [Paragraph(_escape(_("Packing list")), TITLE), _header_table(shipment, tree),
             Paragraph(_escape(_("Packages")), HEADING), _package_table(tree),
             Paragraph(_escape(_("Totals per purchase order line")), HEADING), _totals_table(tree)]
    document.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


class _NumberedCanvas(Canvas):
    """Holds the pages back until the end, so each can say "Page X of Y"."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._held_pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, 1):
            self.__dict__.update(state)
            self.setFont(REGULAR, 7)
            self.setFillColor(GREY)
            self.drawRightString(A4[0] - PAGE_MARGIN - FRAME_PADDING, PAGE_MARGIN,
                                 _("Page %(number)s of %(total)s") % {"number": number, "total": total})
            super().showPage()
        super().save()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header_table(shipment: Shipment, tree: PackingTree) -> Table:
    supplier = shipment.supplier
    left = [(_("Supplier"), f"{supplier.name} ({supplier.code})"),
            (_("Shipment"), _("%(number)s, revision %(revision)s, %(status)s")
             % {"number": shipment.number, "revision": shipment.revision,
                "status": in_sentence(shipment.get_status_display())}),
            (pgettext("packing list header, 22 mm wide", "Ship to"), shipment.ship_to),
            (_("Contents"), _("%(packages)s packages, %(lines)s shipment lines")
             % {"packages": len(tree.packages), "lines": len(tree.lines)})]
    right = [(_("Despatch date"), shipment.despatch_date.isoformat()),
             (_("Expected arrival"), shipment.expected_arrival.isoformat()),
             (_("Carrier"), shipment.carrier or "\u2013"),
             (pgettext("packing list header, 26 mm wide", "Tracking number"), shipment.tracking_number or "\u2013")]
    label = ParagraphStyle("header-label", parent=TEXT, textColor=GREY)
    rows = [[Paragraph(_escape(a), label), Paragraph(_escape(b), TEXT), Paragraph(_escape(c), label), Paragraph(_escape(d), TEXT)]
            for (a, b), (c, d) in zip(left, right)]
    table = Table(rows, colWidths=[22 * mm, 78 * mm, 26 * mm, 55 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return table


def _cell(text: str, width_mm: float, font: str = REGULAR) -> str:
    # Plain strings wrapped here rather than Paragraphs: a long table lays out about four times
    # faster (measured with 700 rows), and the lines still never outgrow their column.
    return "\n".join(_wrap(text, font, CELL_FONT_SIZE, width_mm * mm - 2 * CELL_PADDING))


def _content_rows(line: ShipmentLine, quantity: Decimal) -> list[list[str]]:
    """The row of a packed or unpacked quantity, then its serial numbers, a few lines a row: a
    table row cannot break across pages, and a line may carry hundreds of serials."""
    widths = [width for _title, width in PACKAGE_COLUMNS]
    order_line = line.order_line
    rows = [["", "", _cell(_order_line_text(line), widths[2]), _cell(order_line.item, widths[3]),
             _cell(order_line.description, widths[4]), decimal_text(quantity), _cell(order_line.uom, widths[6]),
             _cell(line.lot, widths[7])]]
    if line.serial_numbers:
        serials = _cell(_("S/N: %(serials)s") % {"serials": ", ".join(line.serial_numbers)}, widths[4]).split("\n")
        rows += [["", "", "", "", "\n".join(serials[start:start + SERIAL_LINES_A_ROW]), "", "", ""]
                 for start in range(0, len(serials), SERIAL_LINES_A_ROW)]
    return rows


def _package_table(tree: PackingTree) -> Table:
    widths = [width for _title, width in PACKAGE_COLUMNS]
    rows: list[list[str]] = [[str(title) for title, _width in PACKAGE_COLUMNS]]
    styles: list[tuple] = []
    for node in tree.walk():
        package = node.package
        indent = 4 * mm * node.depth
        contents = [row for line, quantity in node.contents for row in _content_rows(line, quantity)]
        if node.children:
            kinds = Counter(child.package.kind for child in node.children)
            holds = _holds_text(kinds)
            first = ["", "", "", "", _cell(holds, widths[4]), "", "", ""]
        elif contents:
            # A carton's first content shares its row: most cartons hold one line, and the list
            # is half as long.
            first = contents.pop(0)
        else:
            first = ["", "", "", "", _("Empty"), "", "", ""]
        first[0] = _cell(f"{_kind_text(package.kind).capitalize()} {package.reference}", widths[0] - indent / mm, BOLD)
        first[1] = package.sscc
        row = len(rows)
        rows += [first, *contents]
        styles += [("FONTNAME", (0, row), (1, row), BOLD), ("LEFTPADDING", (0, row), (0, row), CELL_PADDING + indent)]
        if node.children:
            styles.append(("BACKGROUND", (0, row), (-1, row), SHADE))
    unpacked = tree.unpacked()
    if unpacked:
        row = len(rows)
        rows.append([_("Not packed"), "", "", "", "", "", "", ""])
        styles += [("BACKGROUND", (0, row), (-1, row), SHADE), ("FONTNAME", (0, row), (0, row), BOLD)]
        rows += [row for line, quantity in unpacked for row in _content_rows(line, quantity)]
    return _table(rows, widths, styles)


def _totals_table(tree: PackingTree) -> Table:
    widths = [width for _title, width in TOTAL_COLUMNS]
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    packed: dict[int, Decimal] = defaultdict(Decimal)
    packages: dict[int, set[int]] = defaultdict(set)
    order_lines = {}
    for line in tree.lines:
        order_lines[line.order_line_id] = line.order_line
        shipped[line.order_line_id] += line.quantity
    for node in tree.packages:
        for line, quantity in node.contents:
            packed[line.order_line_id] += quantity
            packages[line.order_line_id].add(node.package.pk)
    rows: list[list[str]] = [[str(title) for title, _width in TOTAL_COLUMNS]]
    ordered = sorted(order_lines.values(), key=lambda o: (o.purchase_order.number, o.line_number))
    for order_line in ordered:
        key = order_line.pk
        rows.append([_cell(order_line.purchase_order.number, widths[0]), str(order_line.line_number),
                     _cell(order_line.item, widths[2]), _cell(order_line.description, widths[3]),
                     decimal_text(shipped[key]), decimal_text(packed[key]), _cell(order_line.uom, widths[6]),
                     str(len(packages[key]))])
    return _table(rows, widths, [], numbers=(1, 4, 5, 7))


def _table(rows: list[list[str]], widths: list[float], styles: list[tuple], numbers: tuple[int, ...] = (5,)) -> Table:
    table = Table(rows, colWidths=[width * mm for width in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("FONTSIZE", (0, 0), (-1, -1), CELL_FONT_SIZE),
        ("LEADING", (0, 0), (-1, -1), CELL_FONT_SIZE + 1.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("FONTNAME", (0, 0), (-1, 0), BOLD),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
        *[("ALIGN", (column, 0), (column, -1), "RIGHT") for column in numbers],
        # a column after right-aligned numbers starts a little further off, so "10 BRK-2201" and
        # "250 PCE" do not read as one word
        *[("LEFTPADDING", (column + 1, 0), (column + 1, -1), CELL_PADDING + 4) for column in numbers
          if column + 1 < len(widths) and column + 1 not in numbers],
        *styles,
    ]))
    return table
