"""Files users upload (quality documents, incident attachments): accepted only as PDF, PNG or JPEG
judged from the bytes, within UPLOAD_MAX_BYTES, stored under a generated name in the private
storage (outside every web root), and handed out only as attachments by access-checked views.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, Http404
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext as _

from collaboration.errors import DomainError

logger = logging.getLogger(__name__)
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}


class InvalidUpload(DomainError):
    code = "invalid_upload"
    status = 422


class UploadTooLarge(InvalidUpload):
    code = "upload_too_large"
    status = 413


class _PrivateStorage(LazyObject):
    def _setup(self) -> None:
        self._wrapped = storages["private"]


_private = _PrivateStorage()


def private_storage():
    """The `storage` of private file fields (a callable, so migrations name it and tests can move it)."""
    return _private


@receiver(setting_changed)
def _storages_changed(*, setting: str, **kwargs) -> None:
    if setting == "STORAGES":
        _private._wrapped = empty


@dataclass(frozen=True)
class StoredUpload:
    name: str  # in the private storage
    original_name: str
    content_type: str
    size: int
    sha256: str


def content_type_of(content: bytes) -> str | None:
    """PDF, PNG or JPEG as the bytes say (the file name and the browser's claim are not trusted)."""
    if content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]:
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n") or content.startswith(b"\xff\xd8\xff"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(content)) as image:
                image.verify()
                kind = image.format
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
            return None
        return {"PNG": PNG, "JPEG": JPEG}.get(kind)
    return None


def store_upload(upload, *, folder: str) -> StoredUpload:
    """Check and store an uploaded file (a Django UploadedFile or anything with read(), name, size)."""
    limit = settings.UPLOAD_MAX_BYTES
    if getattr(upload, "size", 0) > limit:
        raise UploadTooLarge(_("The file is larger than %(size)s MB.") % {"size": limit // (1024 * 1024)},
                             details={"file": [_("Too large.")]})
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise UploadTooLarge(_("The file is larger than %(size)s MB.") % {"size": limit // (1024 * 1024)},
                             details={"file": [_("Too large.")]})
    if not content:
        raise InvalidUpload(_("The file is empty."), details={"file": [_("Empty file.")]})
    content_type = content_type_of(content)
    if content_type is None:
        raise InvalidUpload(_("Upload a PDF, PNG or JPEG file; this file is none of them, whatever its name says."),
                            details={"file": [_("Not a PDF, PNG or JPEG file.")]})
    name = private_storage().save(f"{folder}/{uuid.uuid4().hex}.{EXTENSIONS[content_type]}", ContentFile(content))
    return StoredUpload(name=name, original_name=display_name(getattr(upload, "name", "") or "", content_type),
                        content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest())


def display_name(name: str, content_type: str) -> str:
    """The uploader's file name for display and downloads only: no directories, no control or quote
    characters, and the extension of what the file really is."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"';]", "", base).strip(" .") or "document"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem[:120]}.{EXTENSIONS[content_type]}"


def attachment_response(*, name: str, original_name: str, content_type: str) -> FileResponse:
    """The stored file as a download (never rendered inline, never sniffed as something else)."""
    try:
        handle = private_storage().open(name, "rb")
    except FileNotFoundError:
        # The row outlived its file (a restore without PRIVATE_FILES_ROOT?): an operator must look.
        logger.error("stored file %s is missing from the private storage", name)
        raise Http404(_("The file is missing.")) from None
    response = FileResponse(handle, as_attachment=True, filename=original_name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
