"""A workbook file as a zip package, edited part by part.

xlkpi never round-trips a user's workbook through a spreadsheet library: it reads the zip,
replaces or adds only the parts it owns, and copies every other member as it is stored
(compressed bytes and zip attributes alike), so charts, images, VBA, ribbons and printer
settings survive byte for byte. Parts it reads are size-checked before they are inflated
and parsed without document types or entities (see parse_xml). Large parts (the sheets) are
read and written as streams of a few MB (stream, write with a callable), never held whole.
It is one module of about 500 lines because reading, streaming and writing share the size
checks and the zip records they copy; the safe XML parsing at its top is what every part
reader uses.
"""

from __future__ import annotations

import copy
import io
import os
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from xlkpi.errors import WorkbookBusy, XlkpiError
from xlkpi.files import safe_write

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
# Fast deflate: a 6,000-indicator workbook's parts compress 3x faster than at zlib's default
# for a file about 15% larger; a member's content, not its compressed bytes, is what we keep.
COMPRESS_LEVEL = 1
# A part written as pieces (Package.write) goes into the zip in runs of about this many bytes.
STREAM_BYTES = 1 << 20
# A part read as a stream (Package.stream) comes out in chunks of this many bytes.
CHUNK_BYTES = 1 << 22
# Limits on a part xlkpi inflates, checked against the zip's own figures before inflating:
# its size, and (for parts above RATIO_FROM) how many times its compressed size it grows.
MAX_PART_BYTES = 256 << 20
MAX_RATIO = 200
RATIO_FROM = 16 << 20
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Parser options for every part xlkpi reads: entities are not expanded, no DTD or network
# is loaded (an entity bomb stops with an error); huge_tree since sizes are checked first.
_SAFE = {"huge_tree": True, "resolve_entities": False, "load_dtd": False, "no_network": True}
_LOCAL_HEADER = b"PK\x03\x04"
_DESCRIPTOR = b"PK\x07\x08"
# A part's content as a stream of chunks that can be started again, each call from the start.
Chunks = Callable[[], Iterator[bytes | memoryview]]
# A part given to Package.write: its pieces in order, or a callable that makes them.
Pieces = Sequence[bytes | memoryview] | Callable[[], Iterable[bytes | memoryview]]


class PartError(XlkpiError):
    """A part of a workbook that xlkpi cannot use: missing, damaged, unsafe or too large."""

    SAVE_AGAIN = ("Open the workbook in Excel, save it (File → Save As → Excel Workbook), "
                  "and run the command again.")

    def __init__(self, reason: str, part: str = "", source: str = "", fix: str = SAVE_AGAIN):
        self.reason, self.part, self.source, self.fix = reason, part, source, fix
        where = f"{source}: " if source else ""
        what = f"its part {part}" if part else "a part of the workbook"
        super().__init__(f"{where}{what} {reason}. {fix}")


def qn(prefix: str, local: str) -> str:
    """A qualified tag name for lxml: qn("m", "row") → "{...spreadsheetml...}row"."""
    return f"{{{NS[prefix]}}}{local}"


def parse_xml(data: bytes, part: str = "") -> etree._Element:
    """Parse a package part safely: no document type, no entities, nothing fetched; a part
    that is not well-formed (a truncated one, an entity bomb) is a PartError. huge_tree
    because a 6,000-row sheet is large, and its size is limited before it is inflated."""
    try:
        root = etree.fromstring(data, etree.XMLParser(remove_blank_text=False, **_SAFE))
    except etree.XMLSyntaxError as error:
        raise _not_well_formed(error, part) from None
    _refuse_dtd(root, part)
    return root


def safe_iterparse(data: bytes | Iterable[bytes | memoryview], tags: tuple[str, ...],
                   ) -> Iterator[tuple[str, etree._Element]]:
    """etree.iterparse over a part (its bytes or its chunks) with parse_xml's safety and
    errors."""
    events = etree.iterparse(io.BytesIO(data) if isinstance(data, bytes) else _Reader(data),
                             tag=tags, **_SAFE)
    try:
        yield from events
    except etree.XMLSyntaxError as error:
        raise _not_well_formed(error) from None
    _refuse_dtd(events.root)


def _not_well_formed(error: etree.XMLSyntaxError, part: str = "") -> PartError:
    return PartError(f"is not well-formed XML ({error.msg})", part)


def _refuse_dtd(root: etree._Element | None, part: str = "") -> None:
    if root is not None and root.getroottree().docinfo.internalDTD is not None:
        raise PartError("declares a document type (DTD), which Excel never writes and xlkpi "
                        "does not read", part)


def to_xml(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


class Package:
    """The members of one workbook zip, in their original order, editable in memory.

    A member is inflated only when xlkpi reads it; a member it does not change is copied
    to the new file as it was stored (local header, compressed bytes, data descriptor), so
    its metadata survives and nothing is recompressed.
    """

    def __init__(self, source: str, archive: zipfile.ZipFile | None = None,
                 raw: bytes = b"", members: dict[str, bytes] | None = None):
        self.source = source
        self.infos: dict[str, zipfile.ZipInfo] = \
            {info.filename: info for info in archive.infolist()} if archive else {}
        self._archive = archive
        self._raw = raw
        self._names = list(self.infos) or list(members or {})
        self._content: dict[str, bytes] = dict(members or {})
        # Parts written as pieces: a list, or a callable that makes them when the part is
        # streamed (a large sheet rendered while it is saved, never held whole).
        self._pieces: dict[str, Pieces] = {}
        self.members: Mapping[str, bytes] = _Members(self)
        self.changed: set[str] = set()
        self._versions: dict[str, int] = {}  # how often each part was changed here
        self.seen: safe_write.Seen | None = None
        self.workbook_part = self._find_workbook_part()

    @classmethod
    def open(cls, path: Path) -> Package:
        """Read a workbook file; XlkpiError when it is missing, locked, encrypted, in a form
        xlkpi does not edit, or not a workbook."""
        path = Path(path)
        if not path.is_file():
            raise XlkpiError(f"{path}: no such workbook file.")
        lock = path.with_name("~$" + path.name)
        if lock.exists():
            raise WorkbookBusy(f"{path.name} is open in Excel (its lock file {lock.name} exists). "
                             "Close it in Excel, then run the command again.")
        try:
            with open(path, "rb") as handle:
                status, raw = os.fstat(handle.fileno()), handle.read()
        except OSError as error:
            raise XlkpiError(f"{path.name} cannot be read ({error.strerror}).") from None
        if raw.startswith(OLE_MAGIC):
            raise XlkpiError(_ole_message(path.name, raw))
        try:
            archive = zipfile.ZipFile(io.BytesIO(raw))
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise XlkpiError(f"{path.name} is not an Excel workbook (.xlsx/.xlsm) or it is "
                             f"damaged ({error}). Save it from Excel as a workbook and retry.") \
                from None
        names = archive.namelist()
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})[0]
            raise PartError("is stored twice in the zip", twice, path.name)
        package = cls(path.name, archive, raw)
        package.seen = safe_write.Seen(safe_write.real_path(path), status, raw)
        return package

    @classmethod
    def from_members(cls, members: dict[str, bytes], source: str) -> Package:
        """A new package from generated parts (used for brand-new workbooks)."""
        package = cls(source, members=members)
        package.changed = set(members)
        return package

    def _find_workbook_part(self) -> str:
        rels = self.xml("_rels/.rels")
        targets = rels.xpath("rel:Relationship[@Type=$t]/@Target", namespaces=NS,
                             t=OFFICE_DOCUMENT)
        if not targets:
            strict = rels.xpath("rel:Relationship[@Type=$t]", namespaces=NS,
                                t=STRICT_OFFICE_DOCUMENT)
            raise XlkpiError(
                f"{self.source} is saved as a Strict Open XML Spreadsheet, which xlkpi does "
                "not edit. In Excel choose File → Save As, pick 'Excel Workbook (*.xlsx)' "
                "as the type, and run the command on that file." if strict else
                f"{self.source} is a zip file but not an Excel workbook (no workbook part). "
                "Save it from Excel as .xlsx and retry.")
        name = self.resolve("", targets[0])
        self.xml(name)
        self.xml("[Content_Types].xml")
        return name

    def __contains__(self, name: str) -> bool:
        return name in self._content or name in self._names

    def read(self, name: str) -> bytes:
        """A member's content, inflated on first read after its size has been checked, and
        kept: for small parts. A large one is read with stream()."""
        if name in self._pieces:
            self._content[name] = b"".join(self.stream(name))
            del self._pieces[name]
        if name in self._content:
            return self._content[name]
        info = self._checked(name)
        try:
            data = self._archive.read(info)
        except _UNREADABLE as error:
            raise PartError(f"cannot be read ({error})", name, self.source) from None
        self._content[name] = data
        return data

    def stream(self, name: str) -> Iterator[bytes | memoryview]:
        """A member's content as chunks of about CHUNK_BYTES, inflated as they are taken and
        never kept, so a large part is never held whole; read()'s checks and errors."""
        return self.reader(name)()

    def reader(self, name: str) -> Chunks:
        """stream(name) as a callable that streams the part as it is now, each time it is
        called, whatever is written over the part later; the size checks are made here."""
        pieces = self._pieces.get(name)
        if callable(pieces):
            return lambda: iter(pieces())
        if pieces is not None:
            return lambda: iter(pieces)
        if name in self._content:
            data = self._content[name]
            return lambda: _slices(data)
        info = self._checked(name)
        return lambda: self._inflated(info)

    def _checked(self, name: str) -> zipfile.ZipInfo:
        """A stored member's zip entry, once its sizes show it may be inflated."""
        info = self.infos.get(name)
        if info is None or name not in self._names:
            raise PartError("is missing from the package", name, self.source)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_PART_BYTES or (info.file_size > RATIO_FROM and
                                               ratio > MAX_RATIO):
            raise PartError(f"would inflate to {info.file_size / 2**20:,.1f} MB "
                            f"({ratio:,.0f} times its stored size), more than xlkpi reads",
                            name, self.source,
                            fix="If the workbook is genuine, make that part smaller in Excel; "
                                "otherwise do not open it.")
        return info

    def _inflated(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """A stored member inflated chunk by chunk. zipfile stops at the size the zip gives
        (checked by _checked) and checks the CRC at the end, as read() does."""
        try:
            with self._archive.open(info) as member:
                while chunk := member.read(CHUNK_BYTES):
                    yield chunk
        except _UNREADABLE as error:
            raise PartError(f"cannot be read ({error})", info.filename, self.source) from None

    def xml(self, name: str) -> etree._Element:
        """A member parsed as XML (see parse_xml), errors naming it."""
        with self.reading(name):
            return parse_xml(self.read(name))

    @contextmanager
    def reading(self, name: str) -> Iterator[None]:
        """Name `name` and this workbook in a PartError raised while it is read."""
        try:
            yield
        except PartError as error:
            if error.part:
                raise
            raise PartError(error.reason, name, self.source, error.fix) from None

    def write(self, name: str, data: bytes | Pieces) -> None:
        """Replace or add a member; unchanged content is not marked as changed.

        `data` may be the part's pieces in order, kept as they are and streamed into the
        zip on save, so a large part is never joined; or a callable that makes the pieces
        (sheet_write.sheet_writer), run when the part is streamed: to compare it with the
        part as it is (both streamed, up to the first difference) and again on save.
        """
        if isinstance(data, bytes | bytearray | memoryview):
            data = [data]
        pieces = data if callable(data) else list(data)
        if name in self and _same_stream(self.stream(name),
                                         pieces() if callable(pieces) else pieces):
            return
        if name not in self._names:
            self._names.append(name)
        self._content.pop(name, None)
        self._pieces[name] = pieces
        self._changed(name)

    def remove(self, name: str) -> None:
        if name in self._names:
            self._names.remove(name)
            self._content.pop(name, None)
            self._pieces.pop(name, None)
            self._changed(name)

    def _changed(self, name: str) -> None:
        self.changed.add(name)
        self._versions[name] = self.version(name) + 1

    def version(self, name: str) -> int:
        """How many times a part has been changed in this package: what a reader learnt of
        the part (sheet_stream.SheetOutline) holds while this stays the same."""
        return self._versions.get(name, 0)

    def rels_name(self, part: str) -> str:
        """The relationships part of `part` (xl/workbook.xml → xl/_rels/workbook.xml.rels)."""
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def resolve(self, part: str, target: str) -> str:
        """A relationship target of `part` as a member name; a target outside the package
        is refused."""
        name = posixpath.normpath(target.lstrip("/") if target.startswith("/") else
                                  posixpath.join(posixpath.dirname(part), target))
        if name == ".." or name.startswith("../"):
            raise PartError(f"points outside the package (to {target!r})",
                            self.rels_name(part) if part else "_rels/.rels", self.source)
        return name

    def save(self, path: Path, backup: bool = True) -> Path:
        """Write durably to `path` (see safe_write.replace); keep the file being replaced as
        the backup. Returns the real path written."""
        seen = self.seen if self.seen and self.seen.path == safe_write.real_path(path) \
            else None
        return safe_write.replace(path, self._write_zip, backup=backup, seen=seen)

    def _write_zip(self, handle: BinaryIO) -> None:
        with zipfile.ZipFile(handle, "w") as archive:
            for name in self._names:
                info = self.infos.get(name)
                if info is not None and name not in self.changed:
                    _append_stored(archive, info, self._stored(info))
                else:
                    _write_streamed(archive, self._info(name), self.stream(name))

    def _stored(self, info: zipfile.ZipInfo) -> memoryview:
        """A member's local record exactly as the file holds it: header, compressed data
        and, when its flags say so, the data descriptor."""
        start = info.header_offset
        header = self._raw[start:start + 30]
        if len(header) < 30 or not header.startswith(_LOCAL_HEADER):
            raise PartError("has a damaged zip header", info.filename, self.source)
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        end = start + 30 + name_length + extra_length + info.compress_size
        if info.flag_bits & 0x08:
            extra = self._raw[start + 30 + name_length:start + 30 + name_length + extra_length]
            end += 4 if self._raw[end:end + 4] == _DESCRIPTOR else 0
            end += 20 if _has_zip64(extra) else 12
        if end > len(self._raw):
            raise PartError("is cut short", info.filename, self.source)
        return memoryview(self._raw)[start:end]

    def _info(self, name: str) -> zipfile.ZipInfo:
        original = self.infos.get(name)
        info = zipfile.ZipInfo(name, original.date_time if original else FIXED_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = original.external_attr if original else 0o600 << 16
        return info


_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def _slices(data: bytes) -> Iterator[memoryview]:
    """Content held in memory as chunks of CHUNK_BYTES (views, not copies)."""
    view = memoryview(data)
    yield from (view[at:at + CHUNK_BYTES] for at in range(0, len(data), CHUNK_BYTES))


def _same_stream(old: Iterable[bytes | memoryview], new: Iterable[bytes | memoryview]) -> bool:
    """Whether two streams of pieces, joined, would be the same bytes: compared as they
    come, neither joined, stopping at the first difference (both streams are closed)."""
    old, new = iter(old), iter(new)
    try:
        held = memoryview(b"")
        for piece in new:
            piece = memoryview(piece)
            while len(piece):
                if not len(held):
                    chunk = next(old, None)
                    if chunk is None:
                        return False
                    held = memoryview(chunk)
                    continue
                size = min(len(held), len(piece))
                if held[:size] != piece[:size]:
                    return False
                held, piece = held[size:], piece[size:]
        return not len(held) and not any(len(chunk) for chunk in old)
    finally:
        for stream in (old, new):
            getattr(stream, "close", lambda: None)()


def _write_streamed(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                    pieces: Iterable[bytes | memoryview]) -> None:
    """Add a member from its pieces, deflated as one stream in runs of STREAM_BYTES: the
    same bytes ZipFile.writestr writes for the joined content, without the joined content
    ever being held. (writestr sets the size first, which decides only whether a zip64
    header is used, past 4 GB: the header is written again with the sizes at the end.)"""
    info._compresslevel = COMPRESS_LEVEL  # what writestr's compresslevel argument sets
    with archive.open(info, "w") as stream:
        run: list[bytes | memoryview] = []
        size = 0
        for piece in pieces:
            run.append(piece)
            size += len(piece)
            if size >= STREAM_BYTES:
                stream.write(b"".join(run))
                run, size = [], 0
        stream.write(b"".join(run))


class _Reader(io.RawIOBase):
    """A stream of chunks as a file that lxml reads from."""

    def __init__(self, chunks: Iterable[bytes | memoryview]):
        self._chunks = iter(chunks)
        self._held = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        while not len(self._held):
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._held = memoryview(chunk)
        size = min(len(buffer), len(self._held))
        buffer[:size] = self._held[:size]
        self._held = self._held[size:]
        return size


class _Members(Mapping):
    """A package's members by name, inflated when looked at."""

    def __init__(self, package: Package):
        self._package = package

    def __getitem__(self, name: str) -> bytes:
        if name not in self._package:
            raise KeyError(name)
        return self._package.read(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._package._names))

    def __len__(self) -> int:
        return len(self._package._names)


def _append_stored(archive: zipfile.ZipFile, info: zipfile.ZipInfo, record: memoryview) -> None:
    """Add a member to a zip being written by copying its stored record as it is. zipfile
    has no public call for this; these are the steps ZipFile.writestr takes around the data,
    and the central directory is then written from `info` (attributes, flags, system)."""
    copied = copy.copy(info)
    archive.fp.seek(archive.start_dir)
    copied.header_offset = archive.fp.tell()
    archive.fp.write(record)
    archive.start_dir = archive.fp.tell()
    archive.filelist.append(copied)
    archive.NameToInfo[copied.filename] = copied
    archive._didModify = True


def _has_zip64(extra: bytes) -> bool:
    """Whether a local header's extra fields hold a zip64 record (8-byte sizes follow)."""
    position = 0
    while position + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, position)
        if kind == 0x0001:
            return True
        position += 4 + size
    return False


def _ole_message(name: str, raw: bytes) -> str:
    """Why an OLE compound file is not a workbook xlkpi edits."""
    if "EncryptionInfo".encode("utf-16-le") in raw:
        return (f"{name} is password-protected (encrypted), so xlkpi cannot read it. In Excel "
                "choose File → Info → Protect Workbook → Encrypt with Password, clear the "
                "password, save, and run the command on that file (keep it somewhere safe).")
    return (f"{name} is an Excel 97-2003 workbook (.xls) or another older Office file, not an "
            ".xlsx/.xlsm workbook. In Excel choose File → Save As → 'Excel Workbook "
            "(*.xlsx)', and run the command on that file.")
