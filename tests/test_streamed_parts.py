"""Parts written as pieces (Package.write with a list) reach the zip exactly as joined
content would, and pieces equal to the part as it is leave it unchanged."""

from __future__ import annotations

import io
import zipfile

import pytest

from xlkpi.files import package as package_module
from xlkpi.files.package import COMPRESS_LEVEL, Package

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxml'
        b'formats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>')


def members() -> dict[str, bytes]:
    return {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS,
            "xl/workbook.xml": b"<workbook/>"}


def saved(package: Package) -> bytes:
    handle = io.BytesIO()
    package._write_zip(handle)
    return handle.getvalue()


@pytest.fixture
def small_runs(monkeypatch):
    """Runs of a few bytes, so that a part crosses many of them."""
    monkeypatch.setattr(package_module, "STREAM_BYTES", 7)


def test_pieces_are_written_as_their_joined_content_would_be(small_runs):
    pieces = [b"<row>", memoryview(b"..12345..")[2:7], b"</row>" * 500, b"", b"<end/>"]
    streamed = Package.from_members(members(), "book.xlsx")
    streamed.write("xl/worksheets/sheet1.xml", pieces)
    joined = Package.from_members(members(), "book.xlsx")
    joined.write("xl/worksheets/sheet1.xml", b"".join(pieces))
    data = saved(streamed)
    assert data == saved(joined)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("xl/worksheets/sheet1.xml") == b"".join(pieces)
    # What zipfile itself writes for the joined content at xlkpi's level, byte for byte.
    expected = io.BytesIO()
    with zipfile.ZipFile(expected, "w") as archive:
        for name, content in [*members().items(),
                              ("xl/worksheets/sheet1.xml", b"".join(pieces))]:
            info = zipfile.ZipInfo(name, package_module.FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, content, compresslevel=COMPRESS_LEVEL)
    assert data == expected.getvalue()


def test_pieces_equal_to_the_part_leave_it_unchanged(tmp_path):
    path = tmp_path / "book.xlsx"
    Package.from_members(members(), "book.xlsx").save(path, backup=False)
    package = Package.open(path)
    package.write("xl/workbook.xml", [b"<work", memoryview(b"book/>")])
    assert not package.changed
    package.write("xl/workbook.xml", [b"<work", b"book", b"/>", b"<!---->"])
    assert package.changed == {"xl/workbook.xml"}
    assert package.read("xl/workbook.xml") == b"<workbook/><!---->"
    package.write("xl/workbook.xml", [b"<workbook/>"])
    package.write("xl/workbook.xml", [b"<workbook/"])  # a prefix of the part is a change
    assert package.members["xl/workbook.xml"] == b"<workbook/"
