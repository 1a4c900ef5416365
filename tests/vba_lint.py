"""A development linter for the add-in's VBA: macros/ and the pinned xlwings' VBA, in CI.

No Excel runs where the add-in is built or tested, and VBA is compiled only when Excel loads
the add-in, so a slip in macros/ would reach staff as a
"Compile error" on their first click. This checks, for every module and for each platform the
code is compiled for (its #If branches for 64-bit and 32-bit Windows, VBA6 and macOS):

- each logical line: strings closed, parentheses balanced, no line continuation at the end;
- blocks balanced and nested: Sub/Function/Property, If/ElseIf/Else, With, For/Next,
  Select Case, Do/Loop, While/Wend, Type, Enum, and #If/#Else/#End If; no procedure
  defined twice in a module;
- every procedure called (as a statement or as `Name(...)`) is defined in the project,
  declared (Declare, Dim, parameters, constants) or a VBA / Excel built-in;
- `Option Explicit` in the modules xlkpi writes by hand;
- every ribbon callback named in customUI exists, once, as a Sub with the signature Office
  calls it with, e.g. `Sub RefreshMonth(control As IRibbonControl)`;
- each module parses with pyOpenVBA's VBA parser (a VBA grammar: statement syntax,
  expressions, declarations), which the rules above complement with name resolution.

Neither is a VBA compiler: types and object members are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lxml import etree
from pyopenvba.exceptions import VBACompileError
from pyopenvba.interpreter import parse_module
from pyopenvba.interpreter._constants_data import EXCEL_CONSTANTS, OFFICE_CONSTANTS, VBA_CONSTANTS
from pyopenvba.interpreter._inventory import members_of
from pyopenvba.vba import normalize_class_source

from xlkpi.addin.conditional import PLATFORMS, VbaProblem, active_lines, logical_lines

CUSTOMUI_NAMESPACES = ("http://schemas.microsoft.com/office/2009/07/customui",
                       "http://schemas.microsoft.com/office/2006/01/customui")
# What Office passes to a ribbon callback, by customUI attribute (the control kind matters
# only for onAction: toggle buttons and check boxes also pass `pressed`).
CALLBACK_PARAMETERS = {
    "onLoad": ("IRibbonUI",),
    "onAction": ("IRibbonControl",),
    "getLabel": ("IRibbonControl", "ByRef"), "getScreentip": ("IRibbonControl", "ByRef"),
    "getSupertip": ("IRibbonControl", "ByRef"), "getEnabled": ("IRibbonControl", "ByRef"),
    "getVisible": ("IRibbonControl", "ByRef"), "getImage": ("IRibbonControl", "ByRef"),
    "getPressed": ("IRibbonControl", "ByRef"), "getText": ("IRibbonControl", "ByRef"),
}
PRESSED_CONTROLS = {"toggleButton", "checkBox"}

# VBA statements and keywords that begin a statement without being a procedure call.
STATEMENT_WORDS = frozenset("""
call dim redim static const set let get put open close input line print write seek lock
unlock kill mkdir rmdir chdir chdrive filecopy name erase on resume goto gosub return exit end
stop randomize beep sendkeys appactivate load unload savesetting deletesetting lset rset
mid mid$ reset error date time width option declare type enum event raiseevent implements
attribute debug if elseif else for next with select case do loop while wend sub function
property public private friend global defbool defint deflng defstr defvar defobj
""".split())
# VBA and Excel functions and objects called as Name(...) or as statements.
BUILTINS = frozenset("""
abs array asc ascb ascw atn callbyname cbool cbyte ccur cdate cdbl cdec chdir choose chr chr$
chrb chrw chrw$ cint clng clnglng clngptr command command$ cos createobject csng cstr curdir
cvar cverr date$ dateadd datediff datepart dateserial datevalue day ddb dir dir$ doevents
environ environ$ eof erl err error$ exp fileattr filedatetime filelen filter fix format
format$ freefile fv getallsettings getattr getobject getsetting hex hex$ hour iif imestatus
input$ inputb inputbox instr instrb instrrev int ipmt irr isarray isdate isempty iserror
ismissing isnull isnumeric isobject join lbound lcase lcase$ left left$ leftb len lenb loc lof
log ltrim ltrim$ macid macscript mid$ midb minute mirr month monthname msgbox now nper npv
objptr oct partition pmt ppmt pv qbcolor rate replace rgb right right$ rightb rnd round rtrim
rtrim$ second seek sgn shell sin sln space space$ spc split sqr str str$ strcomp strconv
string string$ strptr strreverse switch syd tab tan time$ timer timeserial timevalue trim
trim$ typename ubound ucase ucase$ val varptr vartype weekday weekdayname year
application activeworkbook activesheet activecell thisworkbook workbooks worksheets sheets
range cells rows columns names selection evaluate intersect union applescripttask
calculate run
""".split())
_LABEL_LOOKALIKES = frozenset(("else", "end", "loop", "next", "wend", "stop", "resume"))
_OPERATORS = frozenset("and or not xor eqv imp mod is like new typeof then to step as".split())
OWN_MODULE_MARKER = re.compile(r"^Attribute VB_Name = \"xlkpi_", re.M)
# Words a statement may hold besides declared names: keywords, literals, built-in types,
# Excel's global members (ActiveWindow, WorksheetFunction, ...) and the vb / xl / mso
# constants (pyOpenVBA's tables generated from the type libraries, which its own Excel
# bridge imports the same way).
_KNOWN_WORDS = frozenset("""
sub function property end exit if then else elseif select case for each next do loop while
until wend with byval byref optional paramarray preserve private public global friend
static true false nothing empty null me debug string long integer boolean variant object
double single date currency byte longlong longptr decimal any ptrsafe lib alias base
compare text binary explicit module attribute""".split()) | \
    {name.lower() for name in (*EXCEL_CONSTANTS, *OFFICE_CONSTANTS, *VBA_CONSTANTS)} | \
    members_of("Global")
_NAME = re.compile(r"(?<![\w.!#$&])([A-Za-z_]\w*)\$?(?!\w)(?!\s*:=)")
_TYPE_OR_LABEL = re.compile(r"\b(?:as(?:\s+new)?|new|is|goto|gosub|resume)\s+\w+(?:\.\w+)?",
                            re.I)  # a type (As, New, TypeOf x Is) or a label, not a variable
_HEX_OR_OCTAL = re.compile(r"&[HhOo][0-9A-Fa-f]+&?")

_PROCEDURE = re.compile(
    r"^(?:(?:public|private|friend|static)\s+)*(sub|function|property\s+(?:get|let|set))\s+"
    r"(\w+)\s*(?:\((.*)\))?", re.I)
_DECLARE = re.compile(r"^(?:(?:public|private)\s+)?declare\s+(?:ptrsafe\s+)?"
                      r"(?:sub|function)\s+(\w+)", re.I)
_END_BLOCK = re.compile(r"^end\s+(sub|function|property|if|with|select|type|enum)\b", re.I)
_IDENT_CALL = re.compile(r"(?<![\w.!#$])([A-Za-z_]\w*\$?)\s*\(")
_STATEMENT_SEPARATOR = re.compile(r":(?!=)")
_LABEL = re.compile(r"\s*(?:[A-Za-z_]\w*|\d+)\s*")
_START_MEMBERS = re.compile(r"^(?:(?:public|private)\s+)?(type|enum)\s+\w+$")
_END_MEMBERS = re.compile(r"^end\s+(type|enum)\b")
_DECLARATION = re.compile(r"^(?:dim|redim(?:\s+preserve)?|static|(?:public|private|global)\s+const|"
                          r"public|private|global|const)\s+(?!sub\b|function\b|property\b|"
                          r"declare\b|type\b|enum\b)(.*)", re.I)
_DECLARED_NAME = re.compile(r"\s*(?:withevents\s+)?(\w+)", re.I)
_PARAMETER = re.compile(r"(?:^|,)\s*(?:optional\s+)?(?:byval\s+|byref\s+)?(?:paramarray\s+)?"
                        r"(\w+)", re.I)
_BLOCK_IF = re.compile(r"\bthen$")
_STATEMENT_CALL = re.compile(r"^(?:call\s+)?([A-Za-z_]\w*\$?)(?![\w.(!$])\s*(?!=)(.*)$", re.I)
_INDEXED_ASSIGNMENT = re.compile(r"^\(.*\)\s*=")
_NOT_A_CALL = re.compile(r"^(?:dim|const|(?:public|private|global)\s)", re.I)


@dataclass(frozen=True)
class _Statement:
    line: int
    text: str          # comments removed, string contents blanked to ""
    lowered: str


def check_project(modules: Mapping[str, str], ribbon_xml: bytes | None = None) -> list[VbaProblem]:
    """Every problem in the project's modules (name → source), and in the ribbon's callbacks."""
    problems: list[VbaProblem] = []
    compiled: dict[str, dict[str, tuple[list[_Statement], list[VbaProblem]]]] = {}
    defined = set(BUILTINS)
    signatures: dict[str, set[tuple[int, float]]] = {}
    visible = {name.lower() for name in modules}  # declared outside procedures, project-wide
    owners: dict[str, set[str]] = {}  # procedure → modules it is Private to ("" if Public)
    for name, source in modules.items():
        lines = logical_lines(name, source, problems)
        compiled[name] = {}
        defined.add(name.lower())
        for platform_name, platform in PLATFORMS.items():
            directive_problems: list[VbaProblem] = []
            active = active_lines(name, lines, platform, directive_problems)
            statements = _statements(active)
            compiled[name][platform_name] = statements, \
                directive_problems + _check_labels(name, active)
            defined |= _defined_names(statements)
            visible |= _project_names(statements)
            for procedure, arity in _signatures(statements):
                signatures.setdefault(procedure, set()).add(arity)
            for statement in statements:
                procedure = _PROCEDURE.match(statement.text)
                if procedure:
                    private = statement.lowered.startswith("private")
                    owners.setdefault(procedure.group(2).lower(), set()).add(
                        name.lower() if private else "")
    for name, source in modules.items():
        if OWN_MODULE_MARKER.search(source) and not re.search(r"^Option Explicit\s*$", source,
                                                              re.M | re.I):
            problems.append(VbaProblem(name, 1, "no 'Option Explicit'"))
        seen: set[VbaProblem] = set()
        for platform_name, (statements, found) in compiled[name].items():
            found = found + _check_blocks(name, statements) + \
                _check_calls(name, statements, defined)
            if OWN_MODULE_MARKER.search(source):
                found += _check_names(name, statements, visible) + \
                    _check_arguments(name, statements, signatures) + \
                    _check_private_calls(name, statements, owners)
            for problem in found:
                if problem not in seen:
                    seen.add(problem)
                    problems.append(VbaProblem(problem.module, problem.line,
                                               f"{problem.message} (compiled for "
                                               f"{platform_name})"))
    for name, source in modules.items():
        problems += _grammar_problems(name, source)
    if ribbon_xml is not None:
        problems += check_ribbon_callbacks(ribbon_xml, modules)
    return problems


def _grammar_problems(module: str, source: str) -> list[VbaProblem]:
    """What pyOpenVBA's VBA parser refuses in a module (one problem: it stops at the first)."""
    is_class = source.startswith("VERSION ") or re.search(r"^Attribute VB_Base ", source, re.M)
    if source.startswith("VERSION "):
        source = normalize_class_source(source)
    # VBA allows a comment after a #directive; pyOpenVBA's preprocessor does not.
    lines = [_strip_comment(line) if line.lstrip().startswith("#") else line
             for line in source.replace("\r\n", "\n").split("\n")]
    try:
        parse_module("\n".join(lines), name=module, kind="class" if is_class else "standard")
    except VBACompileError as error:
        where = re.match(r"(?:.*? )?line (\d+): (.*)", str(error), re.S)
        line, message = (int(where.group(1)), where.group(2)) if where else (0, str(error))
        return [VbaProblem(module, line, f"VBA syntax: {message}")]
    return []


def _strip_comment(line: str) -> str:
    in_string = False
    for position, char in enumerate(line):
        if char == '"':
            in_string = not in_string
        elif char == "'" and not in_string:
            return line[:position].rstrip()
    return line


def check_ribbon_callbacks(ribbon_xml: bytes, modules: Mapping[str, str]) -> list[VbaProblem]:
    """Each callback the ribbon names is one Sub, not Private (Office cannot call one), with
    the parameters Office passes it."""
    root = etree.fromstring(ribbon_xml)
    subs: dict[str, list[tuple[str, int, list[str]]]] = {}
    for module, source in modules.items():
        for statement in _statements(logical_lines(module, source, [])):
            match = _PROCEDURE.match(statement.text)
            if match:
                parameters = [p.strip() for p in (match.group(3) or "").split(",") if p.strip()]
                kind_word = match.group(1).lower()
                if re.match(r"(?:(?:friend|static)\s+)*private\s", statement.lowered):
                    kind_word = f"private {kind_word}"
                subs.setdefault(match.group(2).lower(), []).append(
                    (module, statement.line, [kind_word, *parameters]))
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).namespace not in \
                CUSTOMUI_NAMESPACES:
            continue
        kind = etree.QName(element).localname
        for attribute, value in element.attrib.items():
            if attribute not in CALLBACK_PARAMETERS and not attribute.startswith("get"):
                continue
            expected = CALLBACK_PARAMETERS.get(attribute, ("IRibbonControl", "ByRef"))
            if attribute == "onAction" and kind in PRESSED_CONTROLS:
                expected = ("IRibbonControl", "Boolean")
            where = f"customUI <{kind}> {attribute}={value!r}"
            candidates = subs.get(value.lower(), [])
            if len(candidates) != 1:
                problems.append(VbaProblem(
                    "customUI", element.sourceline or 0,
                    f"{where}: {'no' if not candidates else len(candidates)} procedure(s) "
                    f"called {value} in the VBA; Office needs exactly one"))
                continue
            module, line, (kind_word, *parameters) = candidates[0]
            if kind_word != "sub" or not _signature_fits(parameters, expected):
                wanted = ", ".join(_describe(p) for p in expected)
                problems.append(VbaProblem(module, line, f"{where}: must be 'Sub {value}"
                                                         f"({wanted})'" + (
                    ", not Private: Office cannot call a Private Sub"
                    if kind_word.startswith("private") else "")))
    return problems


def _describe(expected: str) -> str:
    return {"IRibbonControl": "control As IRibbonControl", "IRibbonUI": "ribbon As IRibbonUI",
            "Boolean": "pressed As Boolean", "ByRef": "ByRef returnedVal"}[expected]


def _signature_fits(parameters: list[str], expected: tuple[str, ...]) -> bool:
    if len(parameters) != len(expected):
        return False
    for parameter, wanted in zip(parameters, expected, strict=True):
        words = parameter.lower().split()
        if wanted == "ByRef":
            if "byval" in words or "optional" in words or "paramarray" in words:
                return False
        elif words[-2:] != ["as", wanted.lower()] or "optional" in words:
            return False
    return True


def _statements(lines: Iterable[tuple[int, str]]) -> list[_Statement]:
    """Statements: a line split at ':' (not ':='); a leading label is dropped."""
    statements = []
    for number, text in lines:
        parts = _STATEMENT_SEPARATOR.split(text)
        if len(parts) > 1 and _LABEL.fullmatch(parts[0]) and \
                parts[0].strip().lower() not in _LABEL_LOOKALIKES:
            parts = parts[1:]
        statements += [_Statement(number, part.strip(), part.strip().lower())
                       for part in parts if part.strip()]
    return statements


def _members(statements: Iterable[_Statement]) -> Iterable[_Statement]:
    """The member lines of Type and Enum blocks."""
    inside = False
    for statement in statements:
        if _END_MEMBERS.match(statement.lowered):
            inside = False
        elif inside:
            yield statement
        elif _START_MEMBERS.match(statement.lowered):
            inside = True


def _defined_names(statements: Iterable[_Statement]) -> set[str]:
    """Procedures, declared functions, variables, constants, parameters, Type and Enum
    members of a module."""
    statements = list(statements)
    names = {member.lowered.split()[0] for member in _members(statements)}
    for statement in statements:
        text = statement.text
        for pattern in (_PROCEDURE, _DECLARE):
            match = pattern.match(text)
            if match:
                names.add(match.group(2 if pattern is _PROCEDURE else 1).lower())
        procedure = _PROCEDURE.match(text)
        if procedure and procedure.group(3):
            names |= {m.group(1).lower() for m in _PARAMETER.finditer(procedure.group(3))}
        declaration = _DECLARATION.match(text)
        if declaration:
            for part in _top_level_split(declaration.group(1)):
                word = _DECLARED_NAME.match(part)
                if word:
                    names.add(word.group(1).lower())
    return names


def _top_level_split(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


_OPENERS = (
    (re.compile(r"^(?:(?:public|private|friend|static)\s+)*(sub|function)\s+\w", re.I), None),
    (re.compile(r"^(?:(?:public|private|friend|static)\s+)*property\s+(?:get|let|set)\s", re.I),
     "property"),
    (re.compile(r"^(?:(?:public|private)\s+)?type\s+\w+$", re.I), "type"),
    (re.compile(r"^(?:(?:public|private)\s+)?enum\s+\w+$", re.I), "enum"),
    (re.compile(r"^with\b", re.I), "with"),
    (re.compile(r"^for\b", re.I), "for"),
    (re.compile(r"^select\s+case\b", re.I), "select"),
    (re.compile(r"^do\b", re.I), "do"),
    (re.compile(r"^while\b", re.I), "while"),
)
_CLOSERS = {"next": "for", "loop": "do", "wend": "while"}
_PROCEDURE_BLOCKS = {"sub", "function", "property"}
_JUMP = re.compile(r"\b(?:goto|gosub|resume)\s+(\w+)", re.I)
_END_PROCEDURE = re.compile(r"^end\s+(?:sub|function|property)\b", re.I)
_EXIT = re.compile(r"\bexit\s+(sub|function|property|for|do)\b")


def _check_blocks(module: str, statements: list[_Statement]) -> list[VbaProblem]:
    """Blocks opened and closed in order; procedures not nested; Exit inside its block;
    parentheses balanced."""
    problems: list[VbaProblem] = []
    stack: list[tuple[str, int]] = []

    def close(kind: str, statement: _Statement) -> None:
        if not stack or stack[-1][0] != kind:
            open_kind = f"an open {stack[-1][0].title()} (line {stack[-1][1]})" if stack else \
                "no open block"
            problems.append(VbaProblem(module, statement.line,
                                       f"'{statement.text}' closes {kind.title()} but there "
                                       f"is {open_kind}"))
            if any(k == kind for k, _ in stack):
                while stack and stack[-1][0] != kind:
                    stack.pop()
                stack.pop()
            return
        stack.pop()

    for statement in statements:
        text, lowered = statement.text, statement.lowered
        depth = 0
        for char in text:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                break
        if depth:
            problems.append(VbaProblem(module, statement.line,
                                       f"unbalanced parentheses in '{text}'"))
        open_kinds = {kind for kind, _ in stack}
        problems += [VbaProblem(module, statement.line,
                                f"'Exit {kind.title()}' outside a {kind.title()}")
                     for kind in _EXIT.findall(lowered) if kind not in open_kinds]
        if _DECLARE.match(text):
            continue
        end = _END_BLOCK.match(lowered)
        if end:
            close(end.group(1), statement)
            continue
        first = lowered.split()[0]
        if first in _CLOSERS:
            close(_CLOSERS[first], statement)
            continue
        if first == "if" or first == "elseif" or first == "else":
            block_if = _BLOCK_IF.search(lowered) is not None
            if first == "if":
                if block_if:
                    stack.append(("if", statement.line))
                elif " then " not in f"{lowered} ":
                    problems.append(VbaProblem(module, statement.line,
                                               f"'If' without 'Then' in '{text}'"))
            elif not stack or stack[-1][0] != "if":
                problems.append(VbaProblem(module, statement.line,
                                           f"'{first.title()}' outside an If block"))
            continue
        if first == "case" and (not stack or stack[-1][0] != "select"):
            problems.append(VbaProblem(module, statement.line, "'Case' outside Select Case"))
            continue
        for pattern, kind in _OPENERS:
            match = pattern.match(text)
            if match:
                kind = kind or match.group(1).lower()
                if kind in _PROCEDURE_BLOCKS and stack:
                    problems.append(VbaProblem(
                        module, statement.line,
                        f"{kind.title()} starts inside an open {stack[-1][0].title()} "
                        f"(line {stack[-1][1]})"))
                    stack.clear()
                stack.append((kind, statement.line))
                break
    problems += [VbaProblem(module, line, f"{kind.title()} is never closed")
                 for kind, line in stack]
    first_seen: dict[str, int] = {}
    for statement in statements:
        procedure = _PROCEDURE.match(statement.text)
        if procedure and not procedure.group(1).lower().startswith("property"):
            name = procedure.group(2).lower()
            if name in first_seen:
                problems.append(VbaProblem(module, statement.line,
                                           f"{procedure.group(2)} is already defined on line "
                                           f"{first_seen[name]} (ambiguous name)"))
            first_seen.setdefault(name, statement.line)
    return problems


def _check_names(module: str, statements: list[_Statement],
                 defined: set[str]) -> list[VbaProblem]:
    """Names used in one of xlkpi's modules (Option Explicit) that are not declared where
    they are used: a misspelt or undeclared variable or constant, which Excel refuses to
    compile ("Variable not defined"), and a local declared twice ("Duplicate declaration
    in current scope"); procedures called are _check_calls' part. A procedure sees its own
    parameters and locals and whatever is declared outside procedures in any module."""
    known = _KNOWN_WORDS | BUILTINS | STATEMENT_WORDS | _OPERATORS
    problems, members = [], {id(member) for member in _members(statements)}
    scope: set[str] = set()
    for statement in statements:
        if id(statement) in members or statement.lowered.startswith(("attribute ", "#")):
            continue
        procedure = _PROCEDURE.match(statement.text)
        if procedure:
            scope = {m.group(1).lower() for m in _PARAMETER.finditer(procedure.group(3) or "")}
            continue
        if _END_PROCEDURE.match(statement.text):
            scope = set()
            continue
        declared = _declared_here(statement)
        for name in declared:
            if name.lower() in scope and not statement.lowered.startswith("redim"):
                problems.append(VbaProblem(module, statement.line,
                                           f"'{name}' is declared twice in its procedure"))
        scope |= {name.lower() for name in declared}
        text = _HEX_OR_OCTAL.sub("0", _TYPE_OR_LABEL.sub(" ", statement.text))
        called = {name.lower().rstrip("$") for name in _called_names(statement.text)}
        for name in dict.fromkeys(_NAME.findall(text)):
            lowered = name.lower()
            if lowered not in known and lowered not in defined and lowered not in scope \
                    and lowered not in called:  # calls: _check_calls
                problems.append(VbaProblem(module, statement.line,
                                           f"'{name}' is not declared (Option Explicit: "
                                           f"Excel stops with 'Variable not defined')"))
    return problems


def _declared_here(statement: _Statement) -> list[str]:
    """The names a Dim, Static, ReDim or Const statement declares."""
    declaration = _DECLARATION.match(statement.text)
    if not declaration:
        return []
    words = (_DECLARED_NAME.match(part) for part in _top_level_split(declaration.group(1)))
    return [word.group(1) for word in words if word]


def _project_names(statements: list[_Statement]) -> set[str]:
    """What a module declares outside its procedures (variables, constants, Declares, Type
    and Enum members) and its procedures' names: what every procedure may see."""
    names = {member.lowered.split()[0] for member in _members(statements)}
    inside = False
    for statement in statements:
        procedure = _PROCEDURE.match(statement.text)
        if procedure:
            names.add(procedure.group(2).lower())
            inside = True
        elif _END_PROCEDURE.match(statement.text):
            inside = False
        elif not inside:
            declare = _DECLARE.match(statement.text)
            if declare:
                names.add(declare.group(1).lower())
            names |= {name.lower() for name in _declared_here(statement)}
    return names


def _check_labels(module: str, lines: Iterable[tuple[int, str]]) -> list[VbaProblem]:
    """Each GoTo, GoSub or Resume names a label of its own procedure (Excel: "Label not
    defined"). Line-number targets are left out (VBA line numbers need no colon)."""
    problems: list[VbaProblem] = []
    labels: set[str] = set()
    jumps: list[tuple[int, str]] = []

    def procedure_ends() -> None:
        problems.extend(VbaProblem(module, line, f"label '{target}' is not defined in its "
                                                 f"procedure")
                        for line, target in jumps if target.lower() not in labels)
        labels.clear()
        jumps.clear()

    for number, text in lines:
        parts = _STATEMENT_SEPARATOR.split(text)
        if len(parts) > 1 and _LABEL.fullmatch(parts[0]) and \
                parts[0].strip().lower() not in _LABEL_LOOKALIKES:
            labels.add(parts[0].strip().lower())
        if _PROCEDURE.match(text.strip()) or _END_PROCEDURE.match(text.strip()):
            procedure_ends()
        jumps += [(number, target) for target in _JUMP.findall(text)
                  if not target.isdigit() and target.lower() != "next"]
    procedure_ends()
    return problems


def _signatures(statements: Iterable[_Statement]) -> Iterable[tuple[str, tuple[int, float]]]:
    """(name, (fewest, most arguments)) of each Sub and Function a module defines."""
    for statement in statements:
        procedure = _PROCEDURE.match(statement.text)
        if procedure and not procedure.group(1).lower().startswith("property"):
            parameters = [p.strip().lower() for p in _top_level_split(procedure.group(3) or "")
                          if p.strip()]
            required = sum(not p.startswith(("optional", "paramarray")) for p in parameters)
            most = float("inf") if any(p.startswith("paramarray") for p in parameters) \
                else len(parameters)
            yield procedure.group(2).lower(), (required, most)


def _check_arguments(module: str, statements: list[_Statement],
                     signatures: Mapping[str, set[tuple[int, float]]]) -> list[VbaProblem]:
    """Calls in xlkpi's modules to a project procedure with too few or too many arguments
    (Excel: "Argument not optional", "Wrong number of arguments"). Calls with named
    arguments, and names defined more than once with different parameters, are left out."""
    problems = []
    for statement in statements:
        text = statement.text
        if _PROCEDURE.match(text) or _DECLARE.match(text) or _NOT_A_CALL.match(text):
            continue
        calls, statement_start = [], -1
        statement_call = _STATEMENT_CALL.match(text)
        if statement_call and statement_call.group(1).lower() not in STATEMENT_WORDS:
            rest = statement_call.group(2).strip()
            if not rest.startswith("=") and not _INDEXED_ASSIGNMENT.match(rest):
                calls.append((statement_call.group(1), rest))  # Name a, b: no parentheses
                statement_start = statement_call.start(1)
        calls += [(m.group(1), _parenthesised(text, m.end() - 1))
                  for m in _IDENT_CALL.finditer(text) if m.start(1) != statement_start]
        for name, arguments in calls:
            arities = signatures.get(name.lower(), set())
            if len(arities) != 1 or arguments is None or ":=" in arguments:
                continue
            [(required, most)] = arities
            given = len(_top_level_split(arguments)) if arguments.strip() else 0
            if not required <= given <= most:
                wanted = f"{required}" if required == most else \
                    f"{required} to {most}".replace(" to inf", " or more")
                problems.append(VbaProblem(module, statement.line,
                                           f"'{name}' takes {wanted} argument(s), given "
                                           f"{given}"))
    return problems


def _check_private_calls(module: str, statements: list[_Statement],
                         owners: Mapping[str, set[str]]) -> list[VbaProblem]:
    """Calls from xlkpi's modules to a procedure that is Private to another module (Excel:
    "Sub or Function not defined")."""
    problems = []
    for statement in statements:
        if _PROCEDURE.match(statement.text) or _DECLARE.match(statement.text):
            continue
        for name in dict.fromkeys(_called_names(statement.text)):
            where = owners.get(name.lower(), set())
            if where and "" not in where and module.lower() not in where:
                problems.append(VbaProblem(module, statement.line,
                                           f"'{name}' is Private to module "
                                           f"{' and '.join(sorted(where))}"))
    return problems


def _parenthesised(text: str, opening: int) -> str | None:
    """What is inside the parenthesis at `opening`, or None when it is not closed."""
    depth = 0
    for position in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[position], 0)
        if depth == 0:
            return text[opening + 1:position]
    return None


def _check_calls(module: str, statements: list[_Statement],
                 defined: set[str]) -> list[VbaProblem]:
    """Procedures called as statements or as Name(...) that nothing defines."""
    problems = []
    members = {id(member) for member in _members(statements)}
    for statement in statements:
        text = statement.text
        if id(statement) in members or _PROCEDURE.match(text) or _DECLARE.match(text) or \
                _NOT_A_CALL.match(text):
            continue
        for name in _called_names(text):
            lowered = name.lower()
            if lowered in STATEMENT_WORDS or lowered in defined or lowered in _OPERATORS:
                continue
            problems.append(VbaProblem(module, statement.line,
                                       f"'{name}' is called but not defined"))
    return problems


def _called_names(text: str) -> list[str]:
    """The names a statement calls: as a statement (`Name args`) or as `Name(...)`."""
    called = []
    statement_call = _STATEMENT_CALL.match(text)
    if statement_call and (text.lower().startswith("call ") or
                           statement_call.group(1).lower() not in STATEMENT_WORDS):
        rest = statement_call.group(2).lstrip()
        if not rest.startswith("=") and not _INDEXED_ASSIGNMENT.match(rest):
            called.append(statement_call.group(1))
    return called + [match.group(1) for match in _IDENT_CALL.finditer(text)]
