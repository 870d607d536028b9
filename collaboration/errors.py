"""Domain errors, raised by services and selectors and translated once per channel.

Each carries a stable `code` (the API's problem code, the portal's message key, later the EDI
error mapping) and the HTTP status the API answers with.
"""
from __future__ import annotations

from django.utils.translation import get_language, gettext as _


def in_sentence(label) -> str:
    """A choice label (status, step, type) as it reads inside a sentence: lower-cased in English,
    as it is in languages that capitalise nouns (German)."""
    text = str(label)
    language = get_language()
    return text.lower() if not language or language.split("-")[0] == "en" else text


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class InvalidDocument(DomainError):
    """A document (API body, file row) failed validation; `details` maps fields to messages."""

    code = "invalid_document"
    status = 400


class UnknownSupplier(DomainError):
    code = "unknown_supplier"
    status = 422

    @classmethod
    def for_code(cls, code: str) -> UnknownSupplier:
        return cls(_("Supplier %(code)r is not known to the portal.") % {"code": code},
                   details={"supplier": [_("No supplier with code %(code)r.") % {"code": code}]})


class SupplierMismatch(DomainError):
    code = "supplier_mismatch"
    status = 422


class StaleRevision(DomainError):
    """The ERP sent an older revision than the portal holds."""

    code = "stale_revision"
    status = 409


class RevisionContentConflict(DomainError):
    """The ERP sent the current revision number again, with other content."""

    code = "revision_content_conflict"
    status = 409


class SupersededRevision(DomainError):
    """A response to a revision of the order that a later revision has replaced."""

    code = "superseded_revision"
    status = 409


class NothingToSubmit(DomainError):
    """No line is left to answer (or none was given)."""

    code = "nothing_to_submit"
    status = 409


class AlreadyDecided(DomainError):
    code = "already_decided"
    status = 409


class UnknownPurchaseOrder(DomainError):
    code = "unknown_purchase_order"
    status = 422

    @classmethod
    def for_number(cls, number: str) -> UnknownPurchaseOrder:
        return cls(_("Purchase order %(number)r is not known to the portal.") % {"number": number},
                   details={"purchase_order": [_("No purchase order %(number)r.") % {"number": number}]})


class DocumentContentConflict(DomainError):
    """A document the portal already holds under this reference / version came again with other content."""

    code = "document_content_conflict"
    status = 409


class Conflict(DomainError):
    """The request is well formed but the current state forbids it (e.g. removing the last admin)."""

    code = "conflict"
    status = 409
