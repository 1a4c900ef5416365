"""The parts of a brand-new, empty workbook package, written the way Excel writes them."""

from __future__ import annotations

from xlkpi.files.package import NS, OFFICE_DOCUMENT, Package

_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"

CONTENT_TYPES = _HEADER + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/></Types>')
ROOT_RELS = _HEADER + (
    f'<Relationships xmlns="{NS["rel"]}"><Relationship Id="rId1" Type="{OFFICE_DOCUMENT}" '
    'Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = _HEADER + (
    f'<workbook xmlns="{NS["m"]}" xmlns:r="{NS["r"]}"><bookViews><workbookView/>'
    '</bookViews><sheets/><calcPr calcId="191029"/></workbook>')
WORKBOOK_RELS = _HEADER + (
    f'<Relationships xmlns="{NS["rel"]}"><Relationship Id="rId1" Type="{_SS}" '
    'Target="styles.xml"/></Relationships>')
STYLES = _HEADER + (
    f'<styleSheet xmlns="{NS["m"]}"><fonts count="1"><font><sz val="9"/><name val="Arial"/>'
    '<family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1">'
    '<border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>')


def new_package(source: str) -> Package:
    """An empty workbook with no sheets yet; xlkpi adds its own before saving."""
    return Package.from_members({
        "[Content_Types].xml": CONTENT_TYPES.encode(),
        "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.encode(),
        "xl/styles.xml": STYLES.encode(),
    }, source)
