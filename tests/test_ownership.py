"""Nothing lost: refresh and format replace only the rules and sparklines xlkpi wrote.

A user's conditional formats on xlkpi's own columns and a user's sparkline group on the
dataset sheet survive format and refresh byte for byte; xlkpi's rules and its trend group
are there exactly once however often it runs.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from xlkpi import api
from xlkpi.files import formats
from xlkpi.files.bundled import bundled_store
from xlkpi.files.dataset_file import DatasetFile
from xlkpi.files.package import NS
from xlkpi.files.sheet_write import SPARKLINE_URI, X14, XM
from xlkpi.model import layout
from xlkpi.model.layout import column_letter
from xlkpi.model.rules import OWN_SIGNATURES, conditional_rules, signature
from xlkpi.model.view import build_view
from xlkpi.resources import templates_dir

SHEET = "xl/worksheets/sheet1.xml"  # the dataset sheet of a template workbook
SAMPLE = templates_dir() / "sample_extract_2021-01.csv"
VIEW = build_view(bundled_store())
OWNER = column_letter(VIEW.column_index("owner"))
MONTH = column_letter(VIEW.column_index("month_1"))
LATEST = column_letter(VIEW.column_index(f"month_{layout.MONTHS_SHOWN - 1}"))
CHANGE = column_letter(VIEW.column_index("change_prev"))
USER_RULES = [
    f'<conditionalFormatting sqref="{OWNER}3:{OWNER}80"><cfRule type="cellIs" dxfId="{{dxf}}" '
    'priority="1" operator="equal"><formula>"tbc"</formula></cfRule></conditionalFormatting>',
    f'<conditionalFormatting sqref="{MONTH}3:{MONTH}80"><cfRule type="dataBar" priority="2">'
    '<dataBar><cfvo type="min"/><cfvo type="max"/><color rgb="FF638EC6"/></dataBar></cfRule>'
    "</conditionalFormatting>",
    f'<conditionalFormatting sqref="{LATEST}3:{LATEST}80"><cfRule type="expression" '
    f'dxfId="{{dxf}}" priority="3"><formula>{LATEST}3&gt;100</formula></cfRule>'
    "</conditionalFormatting>",
    f'<conditionalFormatting sqref="{CHANGE}3:{CHANGE}80"><cfRule type="iconSet" priority="4">'
    '<iconSet iconSet="3Arrows"><cfvo type="percent" val="0"/><cfvo type="percent" val="33"/>'
    '<cfvo type="percent" val="67"/></iconSet></cfRule></conditionalFormatting>',
]
USER_GROUP = (f'<x14:sparklineGroup displayEmptyCellsAs="gap" markers="1">'
              f'<x14:colorSeries rgb="FF00B050"/><x14:sparklines><x14:sparkline>'
              f"<xm:f>'Monthly dataset'!{MONTH}3:{LATEST}3</xm:f><xm:sqref>AD3</xm:sqref>"
              "</x14:sparkline></x14:sparklines></x14:sparklineGroup>")
USER_EXT = (f'<extLst><ext xmlns:x14="{X14}" uri="{SPARKLINE_URI}">'
            f'<x14:sparklineGroups xmlns:xm="{XM}">{USER_GROUP}</x14:sparklineGroups>'
            "</ext></extLst>")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return api.build_template(tmp_path_factory.mktemp("owned") / "template.xlsx")


def _read(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(SHEET)


def _edit(path: Path, change) -> None:
    """Rewrite the dataset sheet's XML text with `change`, as a user's Excel would."""
    workbook = DatasetFile.open(path)
    workbook.package.write(SHEET, change(workbook.package.read(SHEET).decode()).encode())
    workbook.package.save(path, backup=False)


def _xlkpi_rules(sheet: bytes) -> Counter:
    """xlkpi's rules on the sheet: (sqref, the rule without its priority), counted."""
    root = etree.fromstring(sheet)
    found = Counter()
    for cf in root.iterfind("m:conditionalFormatting", NS):
        for rule in cf.iterfind("m:cfRule", NS):
            if formats.signature(rule) in OWN_SIGNATURES:
                rule = etree.fromstring(etree.tostring(rule))
                del rule.attrib["priority"]
                found[cf.get("sqref"), etree.tostring(rule)] += 1
    return found


@pytest.fixture
def with_user_rules(template, tmp_path) -> tuple[Path, list[str]]:
    """The template with USER_RULES added, each reusing one of xlkpi's dxfs."""
    path = tmp_path / "user.xlsx"
    path.write_bytes(template.read_bytes())
    dxf = re.search(rb'type="cellIs" dxfId="(\d+)"', _read(template)).group(1).decode()
    user = [xml.replace("{dxf}", dxf) for xml in USER_RULES]
    _edit(path, lambda text: text.replace("<pageMargins", "".join(user) + "<pageMargins", 1))
    return path, user


def test_every_rule_xlkpi_writes_has_one_of_its_signatures():
    assert {signature(rule) for rule in conditional_rules(VIEW)} <= OWN_SIGNATURES
    assert {signature(rule) for rule in conditional_rules(VIEW)} >= {
        s for s in OWN_SIGNATURES if s[0] != "expression"}


def test_user_rules_on_xlkpi_columns_survive_format_and_refresh(template, with_user_rules):
    path, user = with_user_rules
    own = _xlkpi_rules(_read(template))
    for _ in range(3):
        api.format_workbook(path)
    sheet = _read(path).decode()
    for xml in user:
        assert sheet.count(xml) == 1, xml
    assert _xlkpi_rules(sheet.encode()) == own
    # xlkpi's rules rank after the user's, so the user's (added on top) stay on top
    priorities = [int(p) for p in re.findall(r'priority="(\d+)"', sheet)]
    assert priorities[:len(user)] == [1, 2, 3, 4] and min(priorities[len(user):]) > 4
    rows = len(DatasetFile.open(path).grid("Monthly dataset"))
    api.refresh(path, SAMPLE)
    sheet = _read(path).decode()
    # Row 80 is under the notes, whose number changes with the month: the rules' ranges
    # end as far under them as they did (files/sheet_ranges.py).
    below = 80 + len(DatasetFile.open(path).grid("Monthly dataset")) - rows
    for xml in user:
        assert sheet.count(xml.replace("80\"", f"{below}\"")) == 1, xml
    assert sum(_xlkpi_rules(sheet.encode()).values()) == sum(own.values())
    assert max(_xlkpi_rules(sheet.encode()).values()) == 1


def test_xlkpi_rules_once_after_ten_formats(with_user_rules):
    path, _ = with_user_rules
    api.format_workbook(path)
    once = _xlkpi_rules(_read(path))
    for _ in range(9):
        api.format_workbook(path)
    assert _xlkpi_rules(_read(path)) == once and max(once.values()) == 1


def test_a_user_rule_excel_grouped_with_xlkpis_is_kept(template, tmp_path):
    """Excel saves rules with one sqref in one <conditionalFormatting>: only xlkpi's go."""
    path = tmp_path / "grouped.xlsx"
    path.write_bytes(template.read_bytes())
    user = ('<cfRule type="cellIs" dxfId="0" priority="99" operator="equal">'
            '<formula>"?"</formula></cfRule>')
    _edit(path, lambda text: re.sub(r'(<cfRule type="cellIs")', user + r"\1", text, count=1))
    own = _xlkpi_rules(_read(template))
    api.format_workbook(path)
    api.format_workbook(path)
    sheet = _read(path).decode()
    assert sheet.count(user) == 1 and _xlkpi_rules(sheet.encode()) == own


def _groups(path: Path) -> list[str]:
    """Every sparkline group on the dataset sheet, as its XML text."""
    return re.findall(r"<x14:sparklineGroup\b.*?</x14:sparklineGroup>", _read(path).decode())


def test_a_users_sparklines_survive_the_trend_coming_and_going(template, tmp_path):
    path = tmp_path / "sparklines.xlsx"
    path.write_bytes(template.read_bytes())
    _edit(path, lambda text: text.replace("</worksheet>", USER_EXT + "</worksheet>"))
    assert _groups(path) == [USER_GROUP]
    api.format_workbook(path, trend=True)
    user, xlkpi = _groups(path)
    assert user == USER_GROUP and "'xlkpi_data'!" in xlkpi
    api.refresh(path, SAMPLE)
    assert _groups(path)[0] == USER_GROUP and len(_groups(path)) == 2
    # Excel writes the data sheet's name unquoted: still xlkpi's group, replaced not doubled
    _edit(path, lambda text: text.replace("'xlkpi_data'!", "xlkpi_data!"))
    api.format_workbook(path)
    assert _groups(path)[0] == USER_GROUP and len(_groups(path)) == 2
    api.format_workbook(path, trend=False)
    assert _groups(path) == [USER_GROUP]
    assert _read(path).count(SPARKLINE_URI.encode()) == 1
