"""Upload hardening: type from the bytes, size limit, generated names in private storage, attachments."""
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from reportlab.pdfgen import canvas

from collaboration import uploads
from collaboration.uploads import InvalidUpload, UploadTooLarge, store_upload


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 750, "Certificate of conformity")
    page.save()
    return buffer.getvalue()


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "expected"), [
    (pdf_bytes(), "application/pdf"), (image_bytes("PNG"), "image/png"), (image_bytes("JPEG"), "image/jpeg")])
def test_pdf_png_and_jpeg_are_stored_privately_under_a_generated_name(content, expected, settings):
    stored = store_upload(SimpleUploadedFile("../../etc/cert.exe", content), folder="quality/1")
    assert stored.content_type == expected and stored.size == len(content)
    path = Path(settings.PRIVATE_FILES_ROOT) / stored.name
    assert path.read_bytes() == content
    assert stored.name.startswith("quality/1/") and "cert" not in stored.name
    assert stored.original_name == f"cert.{uploads.EXTENSIONS[expected]}"  # the real type's extension, no directories


@pytest.mark.parametrize("content", [
    b"\x7fELF\x02\x01\x01" + b"\0" * 200,  # a Linux executable renamed to .pdf
    b"MZ\x90\x00" + b"\0" * 200,  # a Windows one
    b"%PDF-1.7 but then nothing of a PDF",  # a PDF header without an end
    b"\x89PNG\r\n\x1a\n" + b"garbage" * 10,  # a PNG signature in front of garbage
    b"<html><script>alert(1)</script></html>",
])
def test_files_that_are_not_really_pdf_png_or_jpeg_are_refused(content, settings):
    with pytest.raises(InvalidUpload, match="PDF, PNG or JPEG"):
        store_upload(SimpleUploadedFile("certificate.pdf", content), folder="quality/1")
    assert not Path(settings.PRIVATE_FILES_ROOT).exists() or not any(Path(settings.PRIVATE_FILES_ROOT).rglob("*.*"))


def test_a_file_over_the_limit_is_refused_before_it_is_stored(settings):
    settings.UPLOAD_MAX_BYTES = 1024
    content = pdf_bytes()
    assert len(content) > 1024
    with pytest.raises(UploadTooLarge) as refused:
        store_upload(SimpleUploadedFile("big.pdf", content), folder="quality/1")
    assert refused.value.status == 413
    with pytest.raises(InvalidUpload, match="empty"):
        store_upload(SimpleUploadedFile("empty.pdf", b""), folder="quality/1")


def test_downloads_are_attachments_with_a_clean_name_and_no_sniffing():
    stored = store_upload(SimpleUploadedFile('a"b;\r\nc.pdf', pdf_bytes()), folder="quality/1")
    response = uploads.attachment_response(name=stored.name, original_name=stored.original_name,
                                           content_type=stored.content_type)
    assert response["Content-Disposition"] == 'attachment; filename="abc.pdf"'
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_a_file_missing_from_storage_is_not_found_rather_than_an_error(settings):
    from django.http import Http404

    stored = store_upload(SimpleUploadedFile("c.pdf", pdf_bytes()), folder="quality/1")
    (Path(settings.PRIVATE_FILES_ROOT) / stored.name).unlink()
    with pytest.raises(Http404):
        uploads.attachment_response(name=stored.name, original_name=stored.original_name, content_type=stored.content_type)


def test_an_image_claiming_huge_dimensions_is_refused_not_a_crash():
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    with pytest.raises(InvalidUpload):
        store_upload(SimpleUploadedFile("bomb.png", bomb), folder="quality/1")
