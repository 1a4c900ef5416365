"""The board pack as a reader sees it: rendered by LibreOffice, read back from PDF and PNG."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from xlkpi import api
from xlkpi.cli.main import main
from xlkpi.errors import XlkpiError

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="LibreOffice (libreoffice-calc-nogui) and poppler-utils are needed to render; "
           "scripts/setup.sh installs them")]
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r"(.*?)</word>")
RESOLUTION = 100


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pack")
    workbook = api.build_template(folder / "demo.xlsx")
    pdf = api.render(workbook, folder / "demo.pdf", folder / "png")
    return pdf


def _pages(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return [[(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in WORD.findall(page)]
            for page in text.split("<page ")[1:]]


def _image(pdf: Path, page: int) -> np.ndarray:
    """One page as an RGB array (PPM, so no imaging library is needed)."""
    data = subprocess.run(["pdftoppm", "-r", str(RESOLUTION), "-f", str(page), "-l",
                           str(page), str(pdf)], capture_output=True, check=True).stdout
    _, width, height, _, pixels = re.match(rb"(P6)\s+(\d+)\s+(\d+)\s+(\d+)\s(.*)", data,
                                           re.S).groups()
    return np.frombuffer(pixels, np.uint8).reshape(int(height), int(width), 3)


def _colour(image: np.ndarray, box: tuple[float, float, float, float]) -> str:
    """The dominant strong colour in a box given in PDF points: green, amber, red or none."""
    scale = RESOLUTION / 72
    x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
    patch = image[max(y0, 0):y1, max(x0, 0):x1].reshape(-1, 3).astype(int)
    r, g, b = patch[:, 0], patch[:, 1], patch[:, 2]
    counts = {"green": ((g > 100) & (g > r + 40) & (g > b + 30)).sum(),
              "red": ((r > 150) & (g < 110) & (b < 110)).sum(),
              "amber": ((r > 200) & (g > 130) & (b < 120)).sum()}
    colour, count = max(counts.items(), key=lambda item: item[1])
    return colour if count >= 3 else "none"


def _header_bottom(words) -> float:
    """The bottom of the header row: its DoT heading is the topmost "DoT" (the notes under
    the table mention DoT too)."""
    return min(w[3] for w in words if w[4] == "DoT")


def _columns(words) -> dict[str, tuple[float, float]]:
    """x-ranges of the change and DoT columns from the header words on a page."""
    dot = next(w for w in words if w[4] == "DoT")
    percents = sorted(w[0] for w in words if w[4] == "%" and abs(w[1] - dot[1]) < 8)
    return {"change_prev": (percents[0] - 2, percents[1] - 2),
            "change_year": (percents[1] - 2, dot[0] - 4)}


def test_title_headers_and_whole_percentages(pack):
    pages = _pages(pack)
    assert len(pages) >= 5
    first = " ".join(w[4] for w in pages[0])
    assert "Dec-20 Monthly dataset" in first
    for page in pages:  # the header row is on every page
        texts = [w[4] for w in page]
        assert {"Ref.", "Indicator", "DoT", "Dec-20", "12-mnth"} <= set(texts)
        columns = _columns(page)
        header_bottom = _header_bottom(page)
        for left, right in columns.values():
            cells = [w[4] for w in page if left <= (w[0] + w[2]) / 2 < right
                     and w[1] > header_bottom]
            assert cells and all(re.fullmatch(r"-?\d+%|n/a", c) for c in cells), cells


def test_arrow_icons_and_dot_colours(pack):
    seen_arrows, seen_dots = set(), set()
    expected_dot = {"▲": "green", "▼": "red", "●": "amber"}
    for number, page in enumerate(_pages(pack), start=1):
        image = _image(pack, number)
        left, right = _columns(page)["change_prev"]
        header_bottom = _header_bottom(page)
        dot = next(w for w in page if w[4] == "DoT")

        def in_dot_column(word, dot=dot) -> bool:  # not the symbols in the notes' words
            return abs((word[0] + word[2]) / 2 - (dot[0] + dot[2]) / 2) < 12

        for word in page:
            x0, y0, x1, y1, text = word
            if text in expected_dot and y0 > header_bottom and in_dot_column(word):
                assert _colour(image, word[:4]) == expected_dot[text], (number, word)
                seen_dots.add(text)
            change = re.fullmatch(r"(-?\d+)%", text)
            if change and left <= (x0 + x1) / 2 < right and y0 > header_bottom:
                value = int(change.group(1))
                if abs(value) == 10:
                    continue  # the printed figure is rounded: either icon may be right
                expected = "green" if value > 10 else "red" if value < -10 else "amber"
                icon = _colour(image, (left, y0 - 2, x0, y1 + 2))
                assert icon == expected, (number, text, icon)
                seen_arrows.add(expected)
    assert seen_arrows == {"green", "amber", "red"}
    assert seen_dots == set(expected_dot)


def test_png_pages_written(pack):
    pngs = sorted((pack.parent / "png").glob("page-*.png"))
    assert len(pngs) == len(_pages(pack))
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_missing_libreoffice_names_the_package(tmp_path, monkeypatch, capsys):
    workbook = api.build_template(tmp_path / "demo.xlsx")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["render", str(workbook), "--pdf", str(tmp_path / "out.pdf")]) == 1
    assert "libreoffice-calc-nogui" in capsys.readouterr().err
    with pytest.raises(XlkpiError, match="libreoffice-calc-nogui"):
        api.render(workbook, tmp_path / "out.pdf")


@pytest.fixture(scope="module")
def january_pack(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("january")
    workbook, _ = api.demo(folder)
    return api.render(workbook, folder / "jan21.pdf")


def test_january_pack_states_its_short_window_in_words(january_pack):
    text = subprocess.run(["pdftotext", "-layout", str(january_pack), "-"], capture_output=True,
                          text=True, check=True).stdout
    squeezed = " ".join(text.split())
    assert "12-mnth avg and max. based on 8 months (Jun-20 to Jan-21), not 12" in squeezed
    assert "% change from Jan-20 n/a: no Jan-20 figure held" in squeezed
    pages = _pages(january_pack)
    for page in pages:  # every page carries the key to the marks, and marked figures
        words = [w[4] for w in page]
        assert "†" in words and "‡" in words and "(2018-19" in words
        assert "(notes" in words
    assert "DoT:" in [w[4] for w in pages[-1]]
