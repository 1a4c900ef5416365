"""`xlkpi addin verify`: the built add-in passes, and each copy broken the way a writer or a
hand edit breaks it is refused with a message naming the fault.

Every broken copy is made from the built file itself: a dir-stream record changed, bytes
added after the Terminator, directory entries recoloured, a module's source edited, the
ribbon part changed.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # xlwings reads it on import

import re  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
import zipfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from pyopenvba import ExcelFile  # noqa: E402
from pyopenvba.cfb import CFB  # noqa: E402
from pyopenvba.vba import compress, decompress  # noqa: E402

from xlkpi import api  # noqa: E402
from xlkpi.addin import build, ovba, vba, verify  # noqa: E402
from xlkpi.cli.main import main  # noqa: E402
from xlkpi.errors import XlkpiError  # noqa: E402


@pytest.fixture(scope="module")
def addin(tmp_path_factory) -> Path:
    return build.build_addin(tmp_path_factory.mktemp("dist") / "xlkpi.xlam")


def rewrite(source: Path, out: Path, part: str, change: Callable[[bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, change(data) if item.filename == part else data)
    return out


def with_dir(change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """A vbaProject.bin change that edits the decompressed dir stream."""
    def apply(container: bytes) -> bytes:
        storage = CFB.from_bytes(container)
        stream = decompress(storage.get_stream_in_storage("VBA", "dir"))
        storage.write_stream_in_storage("VBA", "dir", compress(change(stream)))
        return ovba.all_black(storage.to_bytes())
    return apply


def record_offsets(stream: bytes, wanted: int) -> list[int]:
    """Where each record with id `wanted` starts in a decompressed dir stream."""
    found, position = [], 0
    while position + 6 <= len(stream):
        record, size = struct.unpack_from("<HI", stream, position)
        if record == wanted:
            found.append(position)
        if record == ovba.TERMINATOR:
            break
        position += 6 + (6 if record == ovba.PROJECTVERSION else size)
    return found


def set_u16(stream: bytes, offset: int, value: int) -> bytes:
    return stream[:offset + 6] + struct.pack("<H", value) + stream[offset + 8:]


def module_type_of(name: str, new_type: int) -> Callable[[bytes], bytes]:
    def change(stream: bytes) -> bytes:
        for offset in record_offsets(stream, ovba.MODULENAME):
            size = struct.unpack_from("<I", stream, offset + 2)[0]
            if stream[offset + 6:offset + 6 + size] == name.encode():
                after = stream[offset:]
                for kind in (ovba.MODULETYPE_PROCEDURAL, ovba.MODULETYPE_OTHER):
                    [first, *_] = record_offsets(after, kind) or [None]
                    if first is not None:
                        at = offset + first
                        return stream[:at] + struct.pack("<H", new_type) + stream[at + 2:]
        raise AssertionError(name)
    return change


def recoloured(container: bytes) -> bytes:
    """Two linked entries (a stream and its left or right sibling) both red."""
    data = bytearray(container)
    entries = ovba.directory(container)
    for entry in entries:
        for link in (entry.left, entry.right):
            if entry.kind and link != ovba.NO_STREAM:
                data[entry.offset + 67] = ovba.RED
                data[entries[link].offset + 67] = ovba.RED
                return bytes(data)
    raise AssertionError("no linked directory entries")


def edited_module(source: Path, out: Path, module: str,
                  edit: Callable[[str], str]) -> Path:
    """A copy with one module's source changed, saved by pyOpenVBA and then finished as the
    build finishes its own output (so the edit is the only fault)."""
    shutil.copyfile(source, out)
    with ExcelFile(out) as book:
        text = book.vba_modules()[module]
        changed = edit(text)
        assert changed != text
        book.set_module(module, changed)
        book.save()
    return rewrite(out, out.with_name("finished-" + out.name), verify.VBA_PART,
                   build._finished_vba_project)


CORRUPTIONS = {
    "module count": (with_dir(lambda s: set_u16(s, record_offsets(s, ovba.PROJECTMODULES)[0],
                                                6)),
                     "the dir stream declares 6 modules (PROJECTMODULES) but holds 7"),
    "code page 1251": (with_dir(lambda s: set_u16(s, record_offsets(s, ovba.PROJECTCODEPAGE)[0],
                                                  1251)),
                       "code page is 1251, not 1252"),
    "standard module as class": (with_dir(module_type_of("xlkpi_ribbon", ovba.MODULETYPE_OTHER)),
                                 "VBA module xlkpi_ribbon is a standard module but its record "
                                 "marks it as a class"),
    "trailing bytes": (with_dir(lambda s: s + b"\x00\x00\x00\x00"),
                       "the dir stream has 4 byte(s) after its Terminator"),
    "red with a red child": (recoloured, "is red with a red child"),
    "cookie": (with_dir(lambda s: set_u16(s, record_offsets(s, ovba.MODULECOOKIE)[-1],
                                          0x1234)),
               "has MODULECOOKIE 0x1234, not 0xffff"),
}


def test_the_built_addin_passes(addin, capsys):
    assert verify.verify_addin(addin) == []
    assert main(["addin", "verify", str(addin)]) == 0
    assert "passes every check" in capsys.readouterr().out
    assert main(["addin", "verify", "--dir", str(addin.parent)]) == 0  # the installed one
    assert api.addin_verify(folder=addin.parent) == addin


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_each_corrupted_vba_container_is_refused(corruption, addin, tmp_path, capsys):
    change, expected = CORRUPTIONS[corruption]
    broken = rewrite(addin, tmp_path / "broken.xlam", verify.VBA_PART, change)
    problems = verify.verify_addin(broken)
    assert any(expected in problem for problem in problems), problems
    assert main(["addin", "verify", str(broken)]) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and "would not load cleanly" in err


SOURCE_EDITS = {
    "Declare without PtrSafe": (
        vba.XLWINGS_VBA_MODULE,
        lambda text: text.replace("Declare PtrSafe Function XLPyDLLNDims",
                                  "Declare Function XLPyDLLNDims", 1),
        "Declare XLPyDLLNDims has no PtrSafe, which 64-bit Excel requires"),
    "PtrSafe in the VBA6 branch": (
        vba.XLWINGS_VBA_MODULE,
        lambda text: text.replace("Private Declare Function XLPyDLLNDims",
                                  "Private Declare PtrSafe Function XLPyDLLNDims", 1),
        "Declare XLPyDLLNDims uses PtrSafe in the branch VBA6 compiles"),
    "wrapper argument dropped": (
        vba.UDF_VBA_MODULE,
        lambda text: text.replace("Function KPI_RATE(count, population, Optional per)",
                                  "Function KPI_RATE(count, population)", 1),
        "wrapper KPI_RATE(count, population) does not match the Python function "
        "KPI_RATE(count, population, Optional per)"),
    "wrapper arguments swapped in the call": (
        vba.UDF_VBA_MODULE,
        lambda text: text.replace("Array(current, earlier)", "Array(earlier, current)"),
        'wrapper KPI_CHANGE does not pass its arguments (current, earlier)'),
    "wrapper removed": (
        vba.UDF_VBA_MODULE,
        lambda text: re.sub(r"Function KPI_MAX12\(.*?End Function\r?\n", "", text, flags=re.S),
        "the Python function KPI_MAX12 has no VBA wrapper"),
}


@pytest.mark.parametrize("edit", SOURCE_EDITS)
def test_each_broken_module_source_is_refused(edit, addin, tmp_path):
    module, change, expected = SOURCE_EDITS[edit]
    broken = edited_module(addin, tmp_path / "edited.xlam", module, change)
    problems = verify.verify_addin(broken)
    assert any(expected in problem for problem in problems), problems


def test_a_missing_module_and_a_ribbon_callback_with_no_sub_are_refused(addin, tmp_path):
    expected = build.expected_modules()
    problems = verify.verify_addin(addin, {**expected, "Extra": True})
    assert problems == ["the VBA project has 7 modules, not 8; missing: Extra"]
    broken = rewrite(addin, tmp_path / "ribbon.xlam", verify.RIBBON_PART,
                     lambda data: data.replace(b'onAction="ExportPdf"',
                                               b'onAction="ExportPdfs"'))
    assert verify.verify_addin(broken) == [
        "the ribbon's onAction='ExportPdfs' names no public Sub in the VBA: Office would say "
        "it cannot run the macro"]
    malformed = rewrite(addin, tmp_path / "xml.xlam", verify.RIBBON_PART,
                        lambda data: data.replace(b"</customUI>", b""))
    [problem] = verify.verify_addin(malformed)
    assert "is not well-formed XML" in problem


def test_a_version_dependent_vba_project_and_a_non_package_are_refused(addin, tmp_path):
    def versioned(container: bytes) -> bytes:
        storage = CFB.from_bytes(container)
        storage.write_stream_in_storage("VBA", "_VBA_PROJECT", bytes.fromhex("CC61B500000300"))
        return ovba.all_black(storage.to_bytes())

    broken = rewrite(addin, tmp_path / "versioned.xlam", verify.VBA_PART, versioned)
    assert verify.verify_addin(broken) == [
        "_VBA_PROJECT is cc 61 b5 00 00 03 00... (7 bytes), not the version-independent "
        "CC 61 FF FF 00 01 00"]
    text = tmp_path / "text.xlam"
    text.write_text("not a zip")
    assert verify.verify_addin(text) == [
        "text.xlam is not a readable add-in package (File is not a zip file)"]
    with pytest.raises(XlkpiError, match="There is no file"):
        api.addin_verify(tmp_path / "missing.xlam")


def test_build_runs_verify_on_what_it_wrote(tmp_path, monkeypatch):
    """Without the finishing step the writer's own faults (bytes after the dir Terminator,
    red entries with red children, the base's project name) stop the build."""
    monkeypatch.setattr(build, "_finished_vba_project",
                        lambda data: build.CFB.from_bytes(data).to_bytes())
    with pytest.raises(XlkpiError) as refused:
        build.build_addin(tmp_path / "raw.xlam")
    message = str(refused.value)
    assert "would not work in Excel, so it was not written" in message
    assert "byte(s) after its Terminator" in message and "red with a red child" in message
    assert not (tmp_path / "raw.xlam").exists()


def test_the_built_project_is_named_xlkpi_and_made_by_xlkpi(addin):
    with zipfile.ZipFile(addin) as package:
        core = package.read(build.CORE_PART).decode()
        storage = CFB.from_bytes(package.read(verify.VBA_PART))
    assert "<dc:creator>xlkpi</dc:creator>" in core and "William Smith" not in core
    assert ovba.read_dir(decompress(storage.get_stream_in_storage("VBA", "dir"))
                         ).project_name == "xlkpi"
    assert re.search(rb'^Name="xlkpi"\r?$', storage.get_stream("PROJECT"), re.M)
    assert all(entry.colour == ovba.BLACK for entry in ovba.directory(
        package_part(addin, verify.VBA_PART)) if entry.kind)


def package_part(path: Path, part: str) -> bytes:
    with zipfile.ZipFile(path) as package:
        return package.read(part)
