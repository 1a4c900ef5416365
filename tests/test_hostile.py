"""Hostile and odd packages: each is a message and exit 1 with the file as it was (or, for
what the standard allows, a successful run); members xlkpi does not own keep their zip
metadata and stored bytes."""

from __future__ import annotations

import io
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import shared_dir

from xlkpi import api
from xlkpi.cli.main import main
from xlkpi.files import package as package_module
from xlkpi.files.package import NS, Package
from xlkpi.files.safe_write import backup_path
from xlkpi.resources import templates_dir

SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
DATA_SHEET = "xl/worksheets/sheet2.xml"  # the hidden xlkpi_data sheet of a template
# A billion laughs: e9 expands to 10^9 "ha"s.
DTD = "<!DOCTYPE bomb [<!ENTITY e0 \"ha\">" + "".join(
    f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 10)) + "]>"
PARSED_PARTS = ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml",
                DATA_SHEET, "xl/worksheets/sheet4.xml"]
ROOT = re.compile(rb"(<\?xml[^>]*\?>\s*)(<[A-Za-z][^>]*?)(>)")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return api.build_template(tmp_path_factory.mktemp("hostile") / "template.xlsx")


def rewrite(source: Path, target: Path, changes: dict[str, bytes | None] | None = None,
            **renamed: str) -> Path:
    """A copy of a workbook with members changed, added or (None) left out."""
    changes = dict(changes or {})
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as out:
        for info in original.infolist():
            data = changes.pop(info.filename, original.read(info.filename))
            if data is not None:
                out.writestr(info.filename, data, zipfile.ZIP_DEFLATED)
        for name, data in changes.items():
            out.writestr(name, data, zipfile.ZIP_DEFLATED)
    return target


def member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def refused(path: Path, capsys, *words: str, command: str = "refresh") -> str:
    """Run a command on a hostile file: exit 1 (refused), a message with `words`, file
    unchanged."""
    before = path.read_bytes()
    args = [command, str(path)] + (["--data", str(SAMPLE)] if command == "refresh" else [])
    assert main(args) == 1
    err = capsys.readouterr().err
    assert all(word in err for word in words), err
    assert "Traceback" not in err
    assert path.read_bytes() == before and not backup_path(path).exists()
    return err


def with_shared_strings(template: Path, target: Path, strings: bytes) -> Path:
    """The template with a shared-strings part (Excel's way of storing text)."""
    rels = member(template, "xl/_rels/workbook.xml.rels").replace(b"</Relationships>", (
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
    return rewrite(template, target, {"xl/_rels/workbook.xml.rels": rels,
                                      "xl/sharedStrings.xml": strings})


@pytest.mark.parametrize("where", ["attribute", "text"])
def test_an_entity_bomb_in_the_shared_strings_is_refused(template, tmp_path, capsys, where):
    ns = NS["m"].encode()
    strings = b'<?xml version="1.0"?>' + DTD.encode() + b'<sst xmlns="' + ns + b'"' + (
        b' bomb="&e9;"><si><t>a</t></si></sst>' if where == "attribute" else
        b"><si><t>&e9;</t></si></sst>")
    book = with_shared_strings(template, tmp_path / "sst.xlsx", strings)
    refused(book, capsys, "its part xl/sharedStrings.xml")


@pytest.mark.parametrize("where", ["attribute", "text"])
@pytest.mark.parametrize("part", PARSED_PARTS)
def test_an_entity_bomb_in_any_part_xlkpi_parses_is_refused(template, tmp_path, capsys,
                                                            part, where):
    xml = member(template, part)
    bomb = (rb"\1" + DTD.encode() + rb"\2 bomb='&e9;'\3" if where == "attribute" else
            rb"\1" + DTD.encode() + rb"\2\3&e9;")
    book = rewrite(template, tmp_path / "bomb.xlsx", {part: ROOT.sub(bomb, xml, count=1)})
    err = refused(book, capsys, f"its part {part}")
    assert "amplification" in err or "document type (DTD)" in err


def test_an_external_entity_is_not_fetched(template, tmp_path, capsys):
    xml = member(template, DATA_SHEET)
    xxe = b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    book = rewrite(template, tmp_path / "xxe.xlsx",
                   {DATA_SHEET: ROOT.sub(rb"\1" + xxe + rb"\2\3&x;", xml, count=1)})
    refused(book, capsys, f"its part {DATA_SHEET} declares a document type")


def test_a_workbook_without_a_styles_part_is_supported(tmp_path):
    ns = NS["m"]
    book = tmp_path / "plain.xlsx"
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{ns}"><sheetData><row r="1">'
             '<c r="A1" t="inlineStr"><is><t>mine</t></is></c></row></sheetData></worksheet>')
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            f'<Relationships xmlns="{NS["rel"]}"><Relationship Id="rId1" Type="'
            f'{package_module.OFFICE_DOCUMENT}" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{ns}" xmlns:r="{NS["r"]}"><sheets><sheet name="Mine" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>'))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            f'<Relationships xmlns="{NS["rel"]}"><Relationship Id="rId1" Type="'
            f'{package_module.WORKSHEET_REL}" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"))
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    assert main(["init", str(book), "--month", "2020-12"]) == 0
    assert main(["refresh", str(book), "--data", str(SAMPLE)]) == 0
    assert member(book, "xl/worksheets/sheet1.xml") == sheet.encode()
    assert b'Target="styles.xml"' in member(book, "xl/_rels/workbook.xml.rels")
    assert b'PartName="/xl/styles.xml"' in member(book, "[Content_Types].xml")
    loaded = openpyxl.load_workbook(book)
    assert loaded["Mine"]["A1"].value == "mine"
    assert loaded["Monthly dataset"]["A1"].font.b


def test_a_relationship_target_outside_the_package_is_refused(template, tmp_path, capsys):
    rels = member(template, "xl/_rels/workbook.xml.rels").replace(
        b'Target="worksheets/sheet2.xml"', b'Target="../../../../etc/passwd"')
    book = rewrite(template, tmp_path / "escape.xlsx", {"xl/_rels/workbook.xml.rels": rels})
    refused(book, capsys, "xl/_rels/workbook.xml.rels points outside the package",
            "../../../../etc/passwd")


def test_a_sheet_without_sheet_id_is_refused(template, tmp_path, capsys):
    workbook = member(template, "xl/workbook.xml").replace(b' sheetId="2"', b"")
    book = rewrite(template, tmp_path / "noid.xlsx", {"xl/workbook.xml": workbook})
    refused(book, capsys, "xl/workbook.xml lists a sheet without a sheetId", "xlkpi_data")


def test_a_missing_or_truncated_store_part_is_refused(template, tmp_path, capsys):
    missing = rewrite(template, tmp_path / "missing.xlsx", {DATA_SHEET: None})
    refused(missing, capsys, f"its part {DATA_SHEET} is missing")
    xml = member(template, DATA_SHEET)
    for cut in (len(xml) // 2, len(xml) - 5):
        truncated = rewrite(template, tmp_path / f"cut{cut}.xlsx", {DATA_SHEET: xml[:cut]})
        refused(truncated, capsys, f"its part {DATA_SHEET} is not well-formed XML")


def test_a_cell_pointing_past_the_shared_strings_is_refused(template, tmp_path, capsys):
    xml = re.sub(rb'<c r="A2"([^>]*) t="inlineStr"><is><t[^>]*>[^<]*</t></is></c>',
                 rb'<c r="A2"\1 t="s"><v>7</v></c>', member(template, DATA_SHEET), count=1)
    book = rewrite(template, tmp_path / "shared.xlsx", {DATA_SHEET: xml})
    refused(book, capsys, f"its part {DATA_SHEET} has a cell value xlkpi cannot read")


def test_a_damaged_zip_is_refused(template, tmp_path, capsys):
    data = template.read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(data[:len(data) // 2])
    refused(cut, capsys, "cut.xlsx is not an Excel workbook", "damaged")
    with zipfile.ZipFile(template) as archive:
        info = archive.getinfo(DATA_SHEET)
    start = info.header_offset + 30 + len(DATA_SHEET) + 200
    flipped = tmp_path / "crc.xlsx"
    flipped.write_bytes(data[:start] + bytes([data[start] ^ 0xFF]) + data[start + 1:])
    refused(flipped, capsys, f"its part {DATA_SHEET} cannot be read")


def test_encrypted_and_old_binary_workbooks_are_named(tmp_path, capsys):
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    encrypted = tmp_path / "secret.xlsx"
    encrypted.write_bytes(header + "EncryptionInfo".encode("utf-16-le") + bytes(1000))
    refused(encrypted, capsys, "secret.xlsx is password-protected", "Encrypt with Password")
    old = tmp_path / "old.xlsx"
    old.write_bytes(header + "Workbook".encode("utf-16-le") + bytes(1000))
    refused(old, capsys, "old.xlsx is an Excel 97-2003 workbook", "Save As")


def test_a_strict_open_xml_workbook_is_named_with_how_to_save_it(template, tmp_path, capsys):
    rels = member(template, "_rels/.rels").replace(
        package_module.OFFICE_DOCUMENT.encode(), package_module.STRICT_OFFICE_DOCUMENT.encode())
    book = rewrite(template, tmp_path / "strict.xlsx", {"_rels/.rels": rels})
    refused(book, capsys, "Strict Open XML Spreadsheet", "Excel Workbook (*.xlsx)")


def test_a_member_stored_twice_is_refused(template, tmp_path, capsys):
    book = rewrite(template, tmp_path / "twice.xlsx")
    with warnings.catch_warnings(), zipfile.ZipFile(book, "a") as archive:
        warnings.simplefilter("ignore")
        archive.writestr(DATA_SHEET, b"<worksheet/>")
    refused(book, capsys, f"its part {DATA_SHEET} is stored twice")


def test_a_part_that_would_inflate_too_far_is_refused_before_inflating(template, tmp_path,
                                                                       capsys, monkeypatch):
    xml = member(template, DATA_SHEET)
    padded = xml.replace(b"</worksheet>", b" " * (20 << 20) + b"</worksheet>")
    bomb = rewrite(template, tmp_path / "zipbomb.xlsx", {DATA_SHEET: padded})
    inflated = []  # members opened for reading: read whole or streamed
    opened = zipfile.ZipFile.open

    def recorded(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            inflated.append(getattr(name, "filename", name))
        return opened(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recorded)
    refused(bomb, capsys, f"its part {DATA_SHEET} would inflate to 20.1 MB", "times its stored")
    assert "xl/workbook.xml" in inflated and DATA_SHEET not in inflated
    inflated.clear()
    monkeypatch.setattr(package_module, "MAX_PART_BYTES", 100_000)
    refused(template, capsys, "its part xl/worksheets/sheet1.xml would inflate",
            command="format")
    assert DATA_SHEET in inflated and "xl/worksheets/sheet1.xml" not in inflated


def test_a_bomb_in_a_member_xlkpi_does_not_own_is_copied_as_stored(template, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(package_module, "MAX_PART_BYTES", 1 << 20)
    book = rewrite(template, tmp_path / "media.xlsx",
                   {"xl/media/huge.bin": bytes(32 << 20)})  # refused if xlkpi read it
    api.refresh(book, SAMPLE)
    assert stored_records(book)["xl/media/huge.bin"] == \
        stored_records(backup_path(book))["xl/media/huge.bin"]


def stored_records(path: Path) -> dict[str, bytes]:
    """Each member's local record as stored: header, compressed bytes, descriptor."""
    package = Package.open(path)
    return {name: bytes(package._stored(info)) for name, info in package.infos.items()}


class _Stream(io.RawIOBase):
    """A write-only stream without seek, so zipfile writes data descriptors (flag bit 3)."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self.buffer.write(data)

    def tell(self) -> int:
        return self.buffer.tell()


def metadata(info: zipfile.ZipInfo) -> tuple:
    return (info.date_time, info.compress_type, info.comment, info.extra, info.create_system,
            info.create_version, info.extract_version, info.flag_bits, info.internal_attr,
            info.external_attr, info.CRC, info.compress_size, info.file_size)


def test_members_xlkpi_does_not_own_keep_their_metadata_and_stored_bytes(template, tmp_path):
    stream = _Stream()
    with zipfile.ZipFile(template) as original, zipfile.ZipFile(stream, "w") as out:
        for info in original.infolist():
            out.writestr(info, original.read(info))
        odd = zipfile.ZipInfo("xl/media/image1.png", (2019, 5, 17, 10, 42, 6))
        odd.create_system, odd.external_attr = 0, 0o100755 << 16 | 0x20
        odd.comment, odd.compress_type = b"kept", zipfile.ZIP_STORED
        out.writestr(odd, b"\x89PNG" + bytes(5000))
        doc = zipfile.ZipInfo("docProps/app.xml", (2020, 1, 2, 3, 4, 6))
        doc.compress_type, doc.create_system = zipfile.ZIP_DEFLATED, 0
        out.writestr(doc, b"<Properties/>" * 300, compresslevel=9)
    book = tmp_path / "odd.xlsx"
    book.write_bytes(stream.buffer.getvalue())
    before = stored_records(book)
    with zipfile.ZipFile(book) as archive:
        infos = {info.filename: metadata(info) for info in archive.infolist()}
    api.refresh(book, SAMPLE)
    after = stored_records(book)
    with zipfile.ZipFile(book) as archive:
        assert archive.testzip() is None
        kept = {info.filename: metadata(info) for info in archive.infolist()}
    unowned = ["xl/media/image1.png", "docProps/app.xml", "_rels/.rels"]
    assert all(infos[name][7] & 0x08 for name in unowned)  # written with data descriptors
    for name in unowned:
        assert after[name] == before[name] and kept[name] == infos[name], name


CORPUS = next((c / "corpus" / "excel-made" for c in [shared_dir()]
               if c is not None and (c / "corpus" / "excel-made").is_dir()), None)


@pytest.mark.skipif(CORPUS is None, reason="the workbook corpus is not beside the repository")
def test_corpus_workbooks_keep_every_unowned_members_stored_record(tmp_path):
    changed = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
               "xl/styles.xml"}
    sample = sorted(CORPUS.glob("*.xls[xm]"))[::100]
    for source in sample:
        book = shutil.copyfile(source, tmp_path / source.name)
        before = stored_records(book)
        with zipfile.ZipFile(book) as archive:
            infos = {info.filename: metadata(info) for info in archive.infolist()}
        api.init(book, "2020-12")
        api.refresh(book, SAMPLE)
        after = stored_records(book)
        with zipfile.ZipFile(book) as archive:
            kept = {info.filename: metadata(info) for info in archive.infolist()}
        for name in set(before) - changed:
            assert after[name] == before[name] and kept[name] == infos[name], \
                (source.name, name)
