"""A sheet part as a stream of rows: the one-pass scanner, the outline it leaves, the rows'
fingerprint, and the earlier rows a write keeps.

A part is scanned chunk by chunk (Scan): the bytes before its <sheetData>, its rows in runs
of about BLOCK bytes, the bytes after it, and whether the xlkpi fingerprint there matches
the rows, all in one pass, so no sheet is ever held whole. The part without its rows
(SheetOutline) is what a writer needs besides the rows it renders or keeps (KeptRows).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from xlkpi.files.package import Chunks

SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")
BLOCK = 1 << 20  # bytes of rows per run: bounds the memory a reader's decoding takes
PLAIN_START = re.compile(rb"(?:\xef\xbb\xbf)?(?:<\?xml[^>]*\?>\s*)?<(?:\w+:)?worksheet[\s>]")
MARK = "xlkpi-sheetData"  # stands for the rows in an outline
# A sheet written with `fingerprint` carries, after </sheetData>, this comment with the SHA-1
# of RENDERING + its sheetData bytes: proof that every row is exactly what sheet_write renders
# of its values, so a later write may keep a row's cells instead of rendering them again.
# Bump RENDERING whenever sheet_write would write different bytes for the same values.
FINGERPRINT = re.compile(rb"<!--xlkpi-rows ([0-9a-f]{40})-->")
RENDERING = b"xlkpi rows 2\n"  # 2: a CR and a typed _xHHHH_ escaped as Excel does
ROW_NUMBER = re.compile(rb'<row r="([0-9]+)">')


@dataclass(frozen=True)
class SheetOutline:
    """An existing sheet part without its rows: all a writer needs of it besides the rows it
    keeps, which it streams again. `rest` is the part with its <sheetData> (and fingerprint)
    replaced by the MARK comment; `fingerprinted` says the rows carry a valid xlkpi
    fingerprint, checked in the pass that read them."""

    rest: bytes
    fingerprinted: bool


class KeptRows:
    """The existing part's rows that `unchanged` keeps (row number → leading cells kept),
    each without its </row> and as a view into the chunk that holds it: found in one pass
    over the part, streamed again, as the new rows ask for them in order."""

    _END = (sys.maxsize, memoryview(b""))

    def __init__(self, rows: Chunks, unchanged: Mapping[int, int]):
        self._rows = _numbered_rows(rows)
        self._unchanged = unchanged
        self._next: tuple[int, memoryview] = (0, memoryview(b""))

    def get(self, number: int) -> tuple[memoryview, int] | None:
        count = self._unchanged.get(number)
        if count is None:
            return None
        while self._next[0] < number:
            self._next = next(self._rows, self._END)
        return (self._next[1], count) if self._next[0] == number else None


def _numbered_rows(rows: Chunks) -> Iterator[tuple[int, memoryview]]:
    """A sheet's rows in order as (row number, the row without its </row>); a row not as
    xlkpi writes it (`<row r="N">`) is left out, so it is rendered, not kept."""
    for run in Scan(rows(), check=False).rows():  # checked when the part was read
        view = memoryview(run)
        at = 0
        while (end := run.find(b"</row>", at)) >= 0:
            found = ROW_NUMBER.match(run, at)
            if found is not None:
                yield int(found.group(1)), view[at:end]
            at = end + len(b"</row>")


def sheet_outline(data: bytes | Chunks) -> SheetOutline:
    """The existing part without its rows (read_sheet gives it from the pass that reads
    the cells; this is a pass of its own, decoding nothing)."""
    scan = Scan(as_stream(data)())
    for _ in scan.rows():
        pass
    return scan.outline()


def rows_open_as_rendered(chunks: Iterable[bytes | memoryview]) -> bool:
    """A first look at a sheet part: whether its first row opens as sheet_write renders it
    (`<row r="1">`, no attributes). Excel writes every row with attributes (spans and
    more), so a sheet it has saved, whose fingerprint is gone, is known from the part's
    first chunk without reading the rest."""
    held = b""
    for chunk in chunks:
        held += chunk
        opening = SHEET_DATA.search(held)
        if opening is not None and len(held) - opening.end() >= len(b'<row r="1">'):
            return held.startswith(b'<row r="1">', opening.end())
    return False


def as_stream(data: bytes | Chunks) -> Chunks:
    """A part given as bytes or as a stream, as a stream."""
    if callable(data):
        return data
    return lambda: iter([data])


class Scan:
    """One pass over a sheet part's chunks: the bytes before its <sheetData>, its rows in
    runs of whole rows of about BLOCK bytes (rows()), the bytes after </sheetData>, and
    whether the xlkpi fingerprint there matches the rows, taken in the same pass."""

    def __init__(self, chunks: Iterable[bytes | memoryview], check: bool = True):
        self._chunks = iter(chunks)
        self._check = check  # whether to check the fingerprint
        held = b""
        self.opening: re.Match | None = None
        for chunk in self._chunks:
            held += chunk
            self.opening = SHEET_DATA.search(held)
            if self.opening is not None:
                break
        opening = self.opening
        # The bytes before <sheetData> (the whole part when it has none), and the rows' first.
        self.start = held[:opening.start()] if opening else held
        self._rest = held[opening.end():] if opening else b""
        self.after: bytes | None = None  # after the <sheetData> element, once rows() ended
        self.fingerprinted = False

    @property
    def plain(self) -> bool:
        """A sheet sheet_read decodes itself: a plain worksheet, an unprefixed <sheetData>
        with rows."""
        return bool(self.opening is not None and not self.opening.group(1)
                    and not self.opening.group(2) and PLAIN_START.match(self.start))

    def rows(self) -> Iterator[bytes]:
        opening = self.opening
        if opening is None:
            return
        rest, self._rest = self._rest, b""
        if opening.group(2):  # <sheetData/>
            self.after = rest + b"".join(self._chunks)
            return
        digest = hashlib.sha1(RENDERING + opening.group(0)) \
            if self._check and not opening.group(1) else None
        close_tag = b"</" + (opening.group(1) or b"") + b"sheetData>"
        while True:
            close = rest.find(close_tag)
            cut = close if close >= 0 else rest.rfind(b"</row>") + len(b"</row>")
            if cut >= len(b"</row>") or close >= 0:
                body, rest = rest[:cut], rest[cut:]
                if digest is not None:
                    digest.update(body)
                yield from _runs(body)
            if close >= 0:
                break
            chunk = next(self._chunks, None)
            if chunk is None:
                return  # cut short: no </sheetData>
            rest += chunk
        after = rest[len(close_tag):] + b"".join(self._chunks)
        mark = FINGERPRINT.match(after)
        if digest is not None and mark is not None:
            digest.update(close_tag)
            self.fingerprinted = digest.hexdigest().encode() == mark.group(1)
        self.after = after

    def outline(self) -> SheetOutline:
        if self.opening is None:
            return SheetOutline(self.start, False)
        after = self.after or b""
        mark = FINGERPRINT.match(after)
        return SheetOutline(self.start + f"<!--{MARK}-->".encode()
                            + after[mark.end() if mark else 0:], self.fingerprinted)


def _runs(rows: bytes) -> Iterator[bytes]:
    """Rows split into runs of whole rows of about BLOCK bytes."""
    begin = 0
    while begin < len(rows):
        stop = rows.find(b"</row>", begin + BLOCK)
        stop = len(rows) if stop < 0 else stop + len(b"</row>")
        yield rows[begin:stop]
        begin = stop
