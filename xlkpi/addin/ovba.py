"""The VBA project's binary records as Excel reads them: the compound-file directory
(MS-CFB 2.6) and the `dir` stream's project and module records (MS-OVBA 2.3.4.2).

Read here byte by byte, independently of the library that writes them, so `build` can put
right what the writer gets wrong (bytes after the dir terminator, red-black colours) and
`verify` can refuse a file Excel would repair or reject.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

CFB_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
ENTRY_SIZE = 128
NO_STREAM = 0xFFFFFFFF
END_OF_CHAIN = 0xFFFFFFFE
RED, BLACK = 0, 1
UNUSED = 0
# dir stream record ids (MS-OVBA 2.3.4.2)
PROJECTCODEPAGE, PROJECTNAME, PROJECTVERSION = 0x0003, 0x0004, 0x0009
PROJECTMODULES, TERMINATOR = 0x000F, 0x0010
MODULENAME, MODULECOOKIE = 0x0019, 0x002C
MODULETYPE_PROCEDURAL, MODULETYPE_OTHER = 0x0021, 0x0022
MODULE_END = 0x002B


class OvbaError(ValueError):
    """A structure that cannot be read at all (truncated, wrong signature)."""


@dataclass(frozen=True)
class DirectoryEntry:
    """One compound-file directory entry: where it is in the file, and its tree links."""

    index: int
    offset: int          # of the 128-byte entry in the file
    name: str
    kind: int            # 0 unused, 1 storage, 2 stream, 5 root
    colour: int          # 0 red, 1 black
    left: int
    right: int
    child: int


def _u16(data: bytes, at: int) -> int:
    return struct.unpack_from("<H", data, at)[0]


def _u32(data: bytes, at: int) -> int:
    return struct.unpack_from("<I", data, at)[0]


def directory(cfb: bytes) -> list[DirectoryEntry]:
    """Every directory entry of a compound file, in order."""
    if cfb[:8] != CFB_SIGNATURE or len(cfb) < 512:
        raise OvbaError("not a compound file (the VBA project's container)")
    size = 1 << _u16(cfb, 0x1E)
    fat_sectors = [_u32(cfb, 0x4C + 4 * i) for i in range(109)][:_u32(cfb, 0x2C)]
    difat, remaining = _u32(cfb, 0x44), _u32(cfb, 0x2C) - len(fat_sectors)
    while remaining > 0 and difat < END_OF_CHAIN:
        start = (difat + 1) * size
        entries = [_u32(cfb, start + 4 * i) for i in range(size // 4 - 1)]
        fat_sectors += entries[:remaining]
        remaining -= len(entries[:remaining])
        difat = _u32(cfb, start + size - 4)
    fat: list[int] = []
    for sector in fat_sectors:
        start = (sector + 1) * size
        fat += struct.unpack_from(f"<{size // 4}I", cfb, start)
    entries, sector, seen = [], _u32(cfb, 0x30), set()
    while sector < END_OF_CHAIN:
        if sector in seen or sector >= len(fat) or (sector + 2) * size > len(cfb):
            raise OvbaError("the compound file's directory chain is broken")
        seen.add(sector)
        start = (sector + 1) * size
        for slot in range(size // ENTRY_SIZE):
            offset = start + slot * ENTRY_SIZE
            raw = cfb[offset:offset + ENTRY_SIZE]
            length = _u16(raw, 64)
            name = raw[:max(length - 2, 0)].decode("utf-16-le", "replace")
            entries.append(DirectoryEntry(len(entries), offset, name, raw[66], raw[67],
                                          _u32(raw, 68), _u32(raw, 72), _u32(raw, 76)))
        sector = fat[sector]
    return entries


def red_with_red_child(entries: list[DirectoryEntry]) -> list[tuple[DirectoryEntry, str]]:
    """Red entries whose left or right sibling (their children in the red-black tree) is
    red too: MS-CFB 2.6.4 forbids it."""
    found = []
    for entry in entries:
        if entry.kind == UNUSED or entry.colour != RED:
            continue
        for link in (entry.left, entry.right):
            if link < len(entries) and entries[link].colour == RED and \
                    entries[link].kind != UNUSED:
                found.append((entry, entries[link].name))
    return found


def all_black(cfb: bytes) -> bytes:
    """The compound file with every directory entry black: MS-CFB 2.6.4 allows marking
    every node black (the tree is then a plain binary search tree), which can never break
    the red-black rules, whatever shape the writer left the tree in."""
    data = bytearray(cfb)
    for entry in directory(cfb):
        if entry.kind != UNUSED:
            data[entry.offset + 67] = BLACK
    return bytes(data)


@dataclass
class DirModule:
    """One module's records in the dir stream."""

    name: str = ""
    kind: int = 0          # MODULETYPE record id: 0x21 procedural, 0x22 class/document
    cookie: int | None = None


@dataclass
class DirStream:
    """The dir stream's records that decide whether Excel can load the project."""

    code_page: int | None = None
    project_name: str = ""
    declared_modules: int | None = None
    modules: list[DirModule] = field(default_factory=list)
    terminated: bool = False
    trailing: bytes = b""    # anything after the Terminator and its Reserved field
    end: int = 0             # offset just past the Reserved field


def read_dir(decompressed: bytes) -> DirStream:
    """The records of a decompressed dir stream (MS-OVBA 2.3.4.2), in order."""
    out, position, module = DirStream(), 0, None
    while position + 6 <= len(decompressed):
        record, size = struct.unpack_from("<HI", decompressed, position)
        position += 6
        if record == TERMINATOR:   # its 4 bytes are Reserved (0), not a size
            out.terminated, out.end = True, position
            out.trailing = decompressed[position:]
            return out
        if record == PROJECTVERSION:  # Reserved (4) then MajorVersion (4), MinorVersion (2)
            size = 6
        data = decompressed[position:position + size]
        position += size
        if record == PROJECTCODEPAGE:
            out.code_page = _u16(data, 0)
        elif record == PROJECTNAME:
            out.project_name = data.decode("cp1252", "replace")
        elif record == PROJECTMODULES:
            out.declared_modules = _u16(data, 0)
        elif record == MODULENAME:
            module = DirModule(data.decode("cp1252", "replace"))
            out.modules.append(module)
        elif record in (MODULETYPE_PROCEDURAL, MODULETYPE_OTHER) and module is not None:
            module.kind = record
        elif record == MODULECOOKIE and module is not None:
            module.cookie = _u16(data, 0)
    return out


def with_project_name(decompressed: bytes, name: str) -> bytes:
    """The dir stream with its PROJECTNAME record set to `name` and nothing after the
    Terminator's Reserved field."""
    out, position = bytearray(), 0
    while position + 6 <= len(decompressed):
        record, size = struct.unpack_from("<HI", decompressed, position)
        if record == TERMINATOR:
            out += decompressed[position:position + 6]
            return bytes(out)
        length = 6 if record == PROJECTVERSION else size
        data = decompressed[position + 6:position + 6 + length]
        if record == PROJECTNAME:
            data = name.encode("cp1252")
            out += struct.pack("<HI", record, len(data)) + data
        else:
            out += decompressed[position:position + 6 + length]
        position += 6 + length
    raise OvbaError("the dir stream has no Terminator record")
