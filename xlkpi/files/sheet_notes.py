"""Notes (cell comments) on the dataset sheet, moved with the cells they annotate.

A refresh moves the seven-month window: the figure a note was written on moves a column to
the left, and the oldest month leaves the sheet. The sheet's comments part (and its VML
shapes, and Excel's threaded comments where there are any) are rewritten so that each note
stays on its figure (`move_notes`, given where each cell goes); a note whose cell leaves the
sheet is taken out of these parts and handed back; the dataset file keeps it in the hidden
sheet NOTES_SHEET (`kept_notes`) and lists it in words (`note_leaves`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from lxml import etree

from xlkpi.files.package import NS, Package, parse_xml, qn, to_xml
from xlkpi.model import months
from xlkpi.model.layout import column_letter
from xlkpi.model.users_cells import NOTES_HEADER, Moves, note_leaves

COMMENTS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
VML_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
THREADED_REL = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
THREADED = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
SHAPE = re.compile(rb"<(\w+:)?shape\b.*?</\1shape>", re.S)
ROW = re.compile(rb"<(\w+:)?Row>\s*(\d+)\s*</\1Row>")
COLUMN = re.compile(rb"<(\w+:)?Column>\s*(\d+)\s*</\1Column>")
ANCHOR = re.compile(rb"(<(\w+:)?Anchor>)([^<]*)(</\2Anchor>)")
NOTE = re.compile(rb'ObjectType\s*=\s*"Note"')

# Where a cell (0-based row, column) goes: its new place, or None when it leaves the sheet.
Mover = Callable[[int, int], "tuple[int, int] | None"]


@dataclass(frozen=True)
class Note:
    """A note taken off the sheet: the cell it was on (0-based), its author and text."""

    row: int
    column: int
    author: str
    text: str


def sheet_notes(package: Package, sheet_part: str) -> list[Note]:
    """Every note on the sheet, where it stands."""
    comments = _related(package, sheet_part).get(COMMENTS_REL)
    if comments is None or comments not in package:
        return []
    root = parse_xml(package.read(comments), comments)
    authors = [a.text or "" for a in root.iterfind("m:authors/m:author", NS)]
    return [_note(comment, place, authors)
            for comment in root.iterfind("m:commentList/m:comment", NS)
            if (place := _place(comment.get("ref", ""))) is not None]


def _note(comment: etree._Element, place: tuple[int, int], authors: list[str]) -> Note:
    author = int(comment.get("authorId", "-1"))
    return Note(*place, authors[author] if 0 <= author < len(authors) else "",
                "".join(t.text or "" for t in comment.iter(qn("m", "t"))))


def move_notes(package: Package, sheet_part: str, move: Mover) -> list[Note]:
    """Move the sheet's notes as `move` says; return the notes whose cells left the sheet,
    taken out of the comments, their shapes and threads. Parts without notes that move are
    not written."""
    parts = _related(package, sheet_part)
    comments = parts.get(COMMENTS_REL)
    if comments is None or comments not in package:
        return []
    root = parse_xml(package.read(comments), comments)
    authors = [a.text or "" for a in root.iterfind("m:authors/m:author", NS)]
    places: dict[tuple[int, int], tuple[int, int] | None] = {}
    gone = []
    for comment in list(root.iterfind("m:commentList/m:comment", NS)):
        place = _place(comment.get("ref", ""))
        if place is None:
            continue
        to = move(*place)
        places[place] = to
        if to is None:
            gone.append(_note(comment, place, authors))
            comment.getparent().remove(comment)
        elif to != place:
            comment.set("ref", _ref(*to))
    if all(to == place for place, to in places.items()):
        return []
    package.write(comments, to_xml(root))
    if (vml := parts.get(VML_REL)) is not None and vml in package:
        package.write(vml, _moved_shapes(package.read(vml), places))
    if (threads := parts.get(THREADED_REL)) is not None and threads in package:
        package.write(threads, _moved_threads(package.read(threads), places, threads))
    return gone


def kept_notes(grid: list[list[object]], gone: list[Note], moves: Moves,
               ) -> tuple[list[list[object]], list[str]]:
    """The hidden NOTES_SHEET's grid (`grid` as it holds them, empty when there is none)
    with the notes whose month left the sheet added (ref, month, author, note), and each
    of them in words; `moves` names the ref and month each was on."""
    grid = grid or [list(NOTES_HEADER)]
    words = []
    for note in gone:
        ref, month = moves.named(note.row, note.column)
        grid.append([ref, months.key(month), note.author.strip(), note.text])
        words.append(note_leaves(ref, month, note.row, note.column, note.author))
    return grid, words


def notes_leaving(package: Package, sheet_part: str, moves: Moves,
                  month: pd.Period) -> list[str]:
    """The notes a write showing `month` would take off the sheet (their months no longer
    shown), in the words the write lists them with."""
    return [note_leaves(*moves.named(note.row, note.column), note.row, note.column,
                        note.author)
            for note in sheet_notes(package, sheet_part)
            if moves.leaves(note.row, note.column, month)]


def _related(package: Package, part: str) -> dict[str, str]:
    """The parts the sheet relates to, by relationship type (the first of each)."""
    rels = package.rels_name(part)
    if rels not in package:
        return {}
    found: dict[str, str] = {}
    for rel in parse_xml(package.read(rels), rels).iterfind("rel:Relationship", NS):
        if rel.get("TargetMode") != "External":
            found.setdefault(rel.get("Type", ""), package.resolve(part, rel.get("Target", "")))
    return found


def _moved_shapes(vml: bytes, places: dict[tuple[int, int], tuple[int, int] | None]) -> bytes:
    """The VML drawing with each note's shape anchored on its cell's new place, or gone.
    Edited as text: Excel's VML is not always well-formed XML."""
    def shape(match: re.Match) -> bytes:
        block = match.group(0)
        row, column = ROW.search(block), COLUMN.search(block)
        if not NOTE.search(block) or row is None or column is None:
            return block
        place = (int(row.group(2)), int(column.group(2)))
        if place not in places:
            return block
        to = places[place]
        if to is None:
            return b""
        down, right = to[0] - place[0], to[1] - place[1]
        block = ROW.sub(lambda m: m.group(0).replace(m.group(2), str(to[0]).encode()), block, 1)
        block = COLUMN.sub(lambda m: m.group(0).replace(m.group(2), str(to[1]).encode()),
                           block, 1)
        return ANCHOR.sub(lambda m: m.group(1) + _anchor(m.group(3), down, right) + m.group(4),
                          block, 1)
    return SHAPE.sub(shape, vml)


def _anchor(text: bytes, down: int, right: int) -> bytes:
    """A shape's anchor (left column, offset, top row, offset, right column, offset, bottom
    row, offset) moved by rows and columns."""
    values = [part.strip() for part in text.split(b",")]
    if len(values) != 8 or not all(v.isdigit() for v in values):
        return text
    numbers = [int(v) for v in values]
    for i, step in ((0, right), (2, down), (4, right), (6, down)):
        numbers[i] = max(numbers[i] + step, 0)
    return ", ".join(str(n) for n in numbers).encode()


def _moved_threads(data: bytes, places: dict[tuple[int, int], tuple[int, int] | None],
                   part: str) -> bytes:
    """Excel's threaded comments following their notes."""
    root = parse_xml(data, part)
    for thread in list(root.iter(f"{{{THREADED}}}threadedComment")):
        place = _place(thread.get("ref", ""))
        if place not in places:
            continue
        to = places[place]
        if to is None:
            thread.getparent().remove(thread)
        else:
            thread.set("ref", _ref(*to))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _place(ref: str) -> tuple[int, int] | None:
    letters = ref.rstrip("0123456789")
    if not letters or letters == ref or not letters.isalpha():
        return None
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - 64
    return int(ref[len(letters):]) - 1, column - 1


def _ref(row: int, column: int) -> str:
    return f"{column_letter(column)}{row + 1}"
