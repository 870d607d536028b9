"""SSCCs for a supplier's packages: allocated in serial order from a GS1 Company Prefix (skipping
serials already on a package), or supplied by the supplier and validated. Uniqueness across the
system is the packages' database constraint."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from collaboration.errors import InvalidDocument
from collaboration.gs1 import InvalidNumber, company_prefix_validate, sscc_compose
from collaboration.models import Package, SsccCounter, Supplier
from portal.db import locked_row

MAX_PER_CALL = 10_000


def sscc_allocate(*, supplier: Supplier, count: int = 1) -> list[str]:
    """`count` new SSCCs under the supplier's prefix (else the portal's), in serial order.

    The counter row is locked for the allocating transaction: concurrent callers queue, serials
    never repeat; a rolled-back caller gives its serials back, so they stay gap-free."""
    if not 1 <= count <= MAX_PER_CALL:
        raise InvalidDocument(_("Ask for 1 to %(max)s SSCCs at a time.") % {"max": MAX_PER_CALL},
                              details={"count": [_("Out of range.")]})
    prefix = supplier.gs1_company_prefix or settings.GS1_COMPANY_PREFIX
    if not prefix:
        raise InvalidDocument(
            _("No GS1 Company Prefix for SSCCs: enter the supplier's own, or set GS1_COMPANY_PREFIX."),
            details={"sscc": [_("No GS1 Company Prefix is configured; enter SSCCs from your own labels.")]},
        )
    try:
        prefix = company_prefix_validate(prefix)
        extension = settings.GS1_SSCC_EXTENSION_DIGIT
        with transaction.atomic():
            counter = locked_row(SsccCounter, company_prefix=prefix, extension_digit=extension)
            numbers: list[str] = []
            serial = counter.last_serial
            while len(numbers) < count:
                batch = [sscc_compose(extension=extension, prefix=prefix, serial=serial + 1 + n)
                         for n in range(count - len(numbers))]
                serial += len(batch)
                # A supplier's own labels may already use serials under its own prefix: skip those.
                used = set(Package.objects.filter(sscc__in=batch).values_list("sscc", flat=True))
                numbers += [number for number in batch if number not in used]
            counter.last_serial = serial
            counter.save(update_fields=["last_serial"])
    except InvalidNumber as error:
        raise InvalidDocument(str(error), details={"sscc": [str(error)]}) from None
    return numbers
