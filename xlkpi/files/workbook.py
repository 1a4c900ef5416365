"""The workbook part: which sheets there are, where they live, adding sheets, print titles."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from lxml import etree

from xlkpi.errors import XlkpiError
from xlkpi.files.package import (
    NS,
    WORKSHEET_REL,
    WORKSHEET_TYPE,
    Package,
    PartError,
    qn,
    to_xml,
)
from xlkpi.model.settings import sheet_name_problem

R_ID = qn("r", "id")


@dataclass(frozen=True)
class SheetEntry:
    name: str
    sheet_id: int
    part: str | None
    position: int
    state: str


class Workbook:
    """Sheets and defined names of a package's workbook part, edited in place."""

    def __init__(self, package: Package):
        self.package = package
        self.part = package.workbook_part
        self.rels_part = package.rels_name(self.part)
        self.root = package.xml(self.part)
        self.rels = package.xml(self.rels_part)

    def sheets(self) -> list[SheetEntry]:
        targets = {rel.get("Id"): (rel.get("Target"), rel.get("Type"))
                   for rel in self.rels.iterfind("rel:Relationship", NS)}
        entries = []
        for position, sheet in enumerate(self.root.iterfind("m:sheets/m:sheet", NS)):
            target, kind = targets.get(sheet.get(R_ID), (None, None))
            part = self.package.resolve(self.part, target) if kind == WORKSHEET_REL else None
            sheet_id = sheet.get("sheetId", "")
            if not sheet_id.isdigit() or not sheet.get("name"):
                missing = "name" if sheet_id.isdigit() else "sheetId"
                raise PartError(f"lists a sheet without a {missing} (sheet {position + 1}, "
                                f"{sheet.get('name')!r})", self.part, self.package.source)
            entries.append(SheetEntry(sheet.get("name"), int(sheet_id), part,
                                      position, sheet.get("state", "visible")))
        return entries

    def sheet(self, name: str) -> SheetEntry | None:
        """The worksheet called `name` (Excel compares sheet names case-insensitively)."""
        return next((s for s in self.sheets() if s.name.casefold() == name.casefold()), None)

    def add_sheet(self, name: str, hidden: bool = False) -> SheetEntry:
        """Append an empty worksheet at the end: its part, relationship and content type.
        A name Excel would refuse, or one a sheet already has, is refused here, whoever
        chose it."""
        problem = sheet_name_problem(name) or \
            (self.sheet(name) is not None and "the workbook already has a sheet of that name")
        if problem:
            raise XlkpiError(f"Cannot add sheet {name!r} to {self.package.source}: {problem}.")
        used = set(self.package.members)
        number = 1
        while f"xl/worksheets/sheet{number}.xml" in used:
            number += 1
        part = f"xl/worksheets/sheet{number}.xml"
        rel_ids = {rel.get("Id") for rel in self.rels}
        rel_number = len(rel_ids) + 1
        while f"rId{rel_number}" in rel_ids:
            rel_number += 1
        relationship = etree.SubElement(self.rels, qn("rel", "Relationship"))
        relationship.set("Id", f"rId{rel_number}")
        relationship.set("Type", WORKSHEET_REL)
        relationship.set("Target", posixpath.relpath(part, posixpath.dirname(self.part)))
        sheets = self.root.find("m:sheets", NS)
        sheet_id = max((s.sheet_id for s in self.sheets()), default=0) + 1
        element = etree.SubElement(sheets, qn("m", "sheet"), name=name, sheetId=str(sheet_id))
        if hidden:
            element.set("state", "hidden")
        element.set(R_ID, f"rId{rel_number}")
        self._add_content_type(part)
        self.package.write(part, empty_sheet_xml())
        return self.sheet(name)

    def _add_content_type(self, part: str, content_type: str = WORKSHEET_TYPE) -> None:
        types = self.package.xml("[Content_Types].xml")
        override = etree.SubElement(types, qn("ct", "Override"))
        override.set("PartName", "/" + part)
        override.set("ContentType", content_type)
        self.package.write("[Content_Types].xml", to_xml(types))

    def related_part(self, rel_type: str) -> str | None:
        """The part the workbook relates to with `rel_type` (e.g. its styles), if any."""
        for rel in self.rels.iterfind("rel:Relationship", NS):
            if rel.get("Type") == rel_type and rel.get("TargetMode") != "External":
                return self.package.resolve(self.part, rel.get("Target"))
        return None

    def add_part(self, rel_type: str, part: str, content_type: str, data: bytes) -> None:
        """Add a part the workbook relates to: its content, relationship and content type."""
        rel_ids = {rel.get("Id") for rel in self.rels}
        rel_number = len(rel_ids) + 1
        while f"rId{rel_number}" in rel_ids:
            rel_number += 1
        etree.SubElement(self.rels, qn("rel", "Relationship"), Id=f"rId{rel_number}",
                         Type=rel_type,
                         Target=posixpath.relpath(part, posixpath.dirname(self.part)))
        self._add_content_type(part, content_type)
        self.package.write(part, data)

    def set_print_titles(self, sheet: SheetEntry, rows: str) -> None:
        """Rows repeated at the top of every printed page, e.g. '$1:$1'."""
        names = self._defined_names()
        for old in names.findall("m:definedName", NS):
            if old.get("name") == "_xlnm.Print_Titles" and \
                    old.get("localSheetId") == str(sheet.position):
                names.remove(old)
        quoted = "'" + sheet.name.replace("'", "''") + "'"
        title = etree.Element(qn("m", "definedName"), name="_xlnm.Print_Titles",
                              localSheetId=str(sheet.position))
        title.text = f"{quoted}!{rows}"
        position = next((i for i, n in enumerate(names) if _name_key(n) > _name_key(title)),
                        len(names))
        names.insert(position, title)

    def set_sheet_name(self, sheet: SheetEntry, name: str, formula: str) -> None:
        """Define (or redefine) a name local to `sheet`, such as _xlnm.Print_Area."""
        names = self._defined_names()
        for old in names.findall("m:definedName", NS):
            if old.get("name") == name and old.get("localSheetId") == str(sheet.position):
                old.text = formula
                return
        element = etree.Element(qn("m", "definedName"), name=name,
                                localSheetId=str(sheet.position))
        element.text = formula
        position = next((i for i, n in enumerate(names) if _name_key(n) > _name_key(element)),
                        len(names))
        names.insert(position, element)

    def _defined_names(self) -> etree._Element:
        names = self.root.find("m:definedNames", NS)
        if names is None:
            names = etree.Element(qn("m", "definedNames"))
            anchor = [self.root.find(f"m:{tag}", NS) for tag in
                      ("sheets", "functionGroups", "externalReferences")]
            [found for found in anchor if found is not None][-1].addnext(names)
        return names

    def save(self) -> None:
        self.package.write(self.part, to_xml(self.root))
        self.package.write(self.rels_part, to_xml(self.rels))


def _name_key(element: etree._Element) -> tuple[str, str]:
    return (element.get("name", "").casefold(), element.get("localSheetId", ""))


def empty_sheet_xml() -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<worksheet xmlns="' + NS["m"].encode() + b'" xmlns:r="' + NS["r"].encode() +
            b'"><sheetData/></worksheet>')

