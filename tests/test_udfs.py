"""The KPI_ functions, called as Excel calls them: through xlwings' own conversion.

xlwings' COM server reads each argument with `conversion.read(None, value, options)` and
writes the result with `conversion.write(...)`; these tests do the same, with the values
Excel hands over (floats, None for blanks, text, tuples of rows for ranges). Off Windows
the conversion runs under xlwings' remote engine, which needs XLWINGS_LICENSE_KEY.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # before xlwings is imported

import pytest  # noqa: E402
from xlwings import conversion  # noqa: E402

from xlkpi.addin import vba  # noqa: E402
from xlkpi.excel import udfs  # noqa: E402

MODULE = vba.udf_module()
MISSING = object()


def call(name: str, *values):
    """Call a UDF the way xlwings' call_udf does; MISSING stands for an omitted argument."""
    function = getattr(MODULE, name)
    info = function.__xlfunc__
    args = []
    for value, arg in zip(values, info["args"], strict=False):
        if value is MISSING:
            args.append(arg.get("optional"))
        else:
            args.append(conversion.read(None, value, arg["options"], engine_name="remote"))
    args += [arg.get("optional") for arg in info["args"][len(values):]]
    return conversion.write(function(*args), None, info["ret"]["options"],
                            engine_name="remote")


def column(*values):
    """A one-column range as pywin32 hands it over: a tuple of one-value rows."""
    return tuple((v,) for v in values)


def flat(result):
    return [row[0] for row in result]


def test_change_scalar_and_missing():
    assert call("KPI_CHANGE", 110.0, 100.0) == [[pytest.approx(0.1)]]
    assert call("KPI_CHANGE", 5.0, 0.0) == [["n/a"]]
    assert call("KPI_CHANGE", 5.0, None) == [["n/a"]]
    assert call("KPI_CHANGE", "tbc", 4.0) == [["n/a"]]
    assert call("KPI_CHANGE", 3.0, "-") == [["n/a"]]


def test_change_range_spills_one_value_per_row():
    result = call("KPI_CHANGE", column(110.0, None, "tbc", 6.0, 2.0),
                  column(100.0, 5.0, 3.0, 0.0, 4.0))
    assert flat(result) == [pytest.approx(0.1), "n/a", "n/a", "n/a", -0.5]


def test_change_range_against_one_cell():
    assert flat(call("KPI_CHANGE", column(2.0, 3.0), 1.0)) == [1.0, 2.0]


def test_ranges_of_different_sizes_are_a_short_message():
    result = call("KPI_CHANGE", column(1.0, 2.0, 3.0), column(1.0, 2.0))
    assert result == [["#KPI! ranges must be the same size (current 3x1, earlier 2x1)"]]


def test_arrow():
    result = call("KPI_ARROW", column(0.1, 0.05, -0.2, "n/a", None, -0.1))
    assert flat(result) == ["↑", "→", "↓", "", "", "↓"]
    assert call("KPI_ARROW", 0.15, 0.2) == [["→"]]
    assert call("KPI_ARROW", 0.15, MISSING) == [["↑"]]
    assert call("KPI_ARROW", 0.15, None) == [["↑"]]


def test_arrow_band_that_is_text_is_a_message():
    assert call("KPI_ARROW", 0.15, "ten") == [["#KPI! band must be a number such as 0.1 (10%)"]]


def test_dot_uses_polarity():
    result = call("KPI_DOT", column(110.0, 110.0, 90.0, 104.0, 110.0, "tbc"), 100.0,
                  column("up", "down", "Down ", "up", "none", "up"))
    assert flat(result) == ["▲", "▼", "▲", "●", "●", "n/a"]


def test_dot_band_and_blank_polarity():
    assert call("KPI_DOT", 104.0, 100.0, "up", 0.03) == [["▲"]]
    assert call("KPI_DOT", 150.0, 100.0, None) == [["●"]]


def test_dot_wrong_polarity_is_a_message():
    assert call("KPI_DOT", 1.0, 2.0, "higher") == [
        ['#KPI! polarity must be "up", "down" or "none", not "higher"']]


def test_avg12_and_max12_use_the_last_twelve_months_of_each_row():
    row1 = tuple(float(v) for v in range(1, 15))  # 14 months: last 12 are 3..14
    row2 = (None, "tbc", *([None] * 10), 4.0, 8.0)
    assert flat(call("KPI_AVG12", (row1, row2))) == [8.5, 6.0]
    assert flat(call("KPI_MAX12", (row1, row2))) == [14.0, 8.0]


def test_avg12_single_row_and_single_column_and_nothing():
    assert call("KPI_AVG12", ((1.0, 2.0, None, "tbc"),)) == [[1.5]]
    assert call("KPI_MAX12", column(1.0, 5.0, None)) == [[5.0]]
    assert call("KPI_AVG12", ((None, "-"),)) == [["n/a"]]
    assert call("KPI_MAX12", 7.0) == [[7.0]]


def test_rate():
    assert call("KPI_RATE", 52.0, 52000.0) == [[10.0]]
    assert call("KPI_RATE", 52.0, 52000.0, 1000.0) == [[1.0]]
    assert flat(call("KPI_RATE", column(10.0, "tbc", 20.0), 1000.0)) == [100.0, "n/a", 200.0]
    assert call("KPI_RATE", 10.0, 0.0) == [["n/a"]]
    assert call("KPI_RATE", 10.0, 100.0, "x") == [["#KPI! per must be a positive number such "
                                                   "as 10000"]]


def test_rag():
    result = call("KPI_RAG", column(10.0, 9.5, 8.0, None, 12.0, 10.0),
                  column(10.0, 10.0, 10.0, 10.0, 10.0, "tbc"),
                  column("up", "up", "up", "up", "down", "up"))
    assert flat(result) == ["G", "A", "R", "", "R", ""]
    assert call("KPI_RAG", 8.0, 10.0, "up", 0.25) == [["A"]]


def test_unexpected_errors_are_one_line_not_a_traceback():
    result = call("KPI_CHANGE", ((1.0, 2.0), (3.0,)), 1.0)
    text = result[0][0] if isinstance(result, list) else result
    assert text.startswith("#KPI! ")
    assert "Traceback" not in text and "\n" not in text


def test_every_function_and_argument_has_a_wizard_description():
    functions = vba.udf_functions(MODULE)
    assert {f.__name__ for f in functions} == {
        "KPI_CHANGE", "KPI_ARROW", "KPI_DOT", "KPI_AVG12", "KPI_MAX12", "KPI_RATE", "KPI_RAG"}
    for function in functions:
        info = function.__xlfunc__
        assert info["category"] == udfs.CATEGORY
        texts = [info["ret"]["doc"], *(arg["doc"] for arg in info["args"])]
        for text in texts:
            assert text and not text.startswith("Positional argument")
            assert len(text) <= 255
            text.encode(vba.VBA_ENCODING)  # VBA modules hold Windows-1252 text only


def test_imported_module_is_callable_directly_too():
    assert math.isclose(udfs.KPI_CHANGE([[3.0]], [[2.0]]), 0.5)


def test_plain_numbers_from_python_are_single_cells():
    assert udfs.KPI_DOT(32, 37, "down") == "▲"
    assert udfs.KPI_CHANGE(9, 8) == 0.125
    assert udfs.KPI_RAG(0.83, 0.93, "up") == "R"


def test_avg12_and_max12_with_min_months_count_the_figures():
    row = (None, None, 5.0, "tbc", 6.0)  # 2 figures: "tbc" in the middle is not one
    assert call("KPI_AVG12", (row,), 2.0) == [[5.5]]
    assert call("KPI_AVG12", (row,), 3.0) == [["n/a"]]
    assert call("KPI_MAX12", (row,), 2.0) == [[6.0]]
    assert call("KPI_MAX12", (row,), 3.0) == [["n/a"]]
    assert call("KPI_AVG12", (row,), MISSING) == [[5.5]]  # omitted: 1 month is enough
    eight = tuple(float(v) for v in range(1, 9))  # Jun-20 to Jan-21
    assert flat(call("KPI_AVG12", (eight, (None,) * 7 + (4.0,)), 6.0)) == [4.5, "n/a"]


def test_min_months_out_of_range_is_a_message():
    message = "#KPI! min_months must be a whole number of months from 1 to 12"
    assert call("KPI_AVG12", ((1.0, 2.0),), 13.0) == [[message]]
    assert call("KPI_MAX12", ((1.0, 2.0),), "six") == [[message]]
    assert call("KPI_MAX12", ((1.0, 2.0),), 2.5) == [[message]]
