Attribute VB_Name = "xlkpi_ribbon"
' Callbacks of the "KPI dataset" ribbon tab (customUI14.xml).
' Each button hands over to Python (package xlkpi) through xlwings' RunPython. The Python
' code strings are constants: user text such as paths is never put into them; Python reads
' it from the workbook instead. Each call names the xlwings version the add-in was built
' with (XLWINGS_VERSION, in the xlwings module), so Python can say when another is installed.
Option Explicit

Private Const SETTINGS_SHEET As String = "xlkpi.conf"
Private Const RIBBON As String = "import xlkpi.excel.ribbon as ribbon; ribbon."
Private Const TITLE As String = "KPI dataset"
Private Const INSTALL_HINT As String = "In a Command Prompt (Terminal on a Mac) run:  xlkpi addin status  " & _
    "- it says which link is broken - and  xlkpi addin install  to mend it, then restart Excel."
Public Const MAC_FUNCTIONS As String = "#KPI! KPI_ worksheet functions need Excel for Windows: " & _
    "xlwings runs Python in worksheet cells on Windows only. The KPI dataset ribbon works on this Mac."

Sub Ribbon_Load(ribbonUI As IRibbonUI)
    RegisterFunctionHelp
End Sub

Sub RefreshMonth(control As IRibbonControl)
    RunRibbon "refresh_month"
End Sub

Sub UndoRefresh(control As IRibbonControl)
    If Not WorkbookIsOpen() Then Exit Sub
    If MsgBox("Put the workbook back as it was before the last refresh?", _
              vbOKCancel + vbQuestion, TITLE) = vbOK Then
        RunRibbon "undo_refresh"
    End If
End Sub

Sub ValidateData(control As IRibbonControl)
    RunRibbon "validate_data"
End Sub

Sub Recalculate(control As IRibbonControl)
    RunRibbon "recalculate"
End Sub

Sub ApplyFormatting(control As IRibbonControl)
    RunRibbon "apply_formatting"
End Sub

Sub ExportPdf(control As IRibbonControl)
    RunRibbon "export_pdf"
End Sub

Sub SettingsHelp(control As IRibbonControl)
    RunRibbon "settings_help"
End Sub

Sub RelinkAddin(control As IRibbonControl)
    ' KPI_ formulas saved on another PC point at that PC's add-in (its own start-up folder):
    ' re-point them at this add-in with Excel's ChangeLink. 'xlkpi addin relink WORKBOOK' does
    ' the same to a closed workbook.
    Dim links As Variant
    Dim i As Long
    Dim changed As Long
    Dim fileName As String

    If Not WorkbookIsOpen() Then Exit Sub
    links = ActiveWorkbook.LinkSources(xlExcelLinks)
    If Not IsEmpty(links) Then
        For i = LBound(links) To UBound(links)
            fileName = Mid$(links(i), InStrRev(Replace(links(i), "/", "\"), "\") + 1)
            If LCase$(fileName) = LCase$(ThisWorkbook.Name) And links(i) <> ThisWorkbook.FullName Then
                ActiveWorkbook.ChangeLink links(i), ThisWorkbook.FullName, xlLinkTypeExcelLinks
                changed = changed + 1
            End If
        Next i
    End If
    If changed = 0 Then
        MsgBox "This workbook's KPI_ formulas already use the add-in on this PC.", vbInformation, TITLE
    Else
        MsgBox changed & " link(s) to another PC's add-in now point at " & ThisWorkbook.FullName & _
               ". Save the workbook to keep this.", vbInformation, TITLE
    End If
End Sub

Sub ChooseExtract(control As IRibbonControl)
    ' The chosen path goes into the settings sheet as a cell value; Python reads it there.
    Dim chosen As Variant

    If Not SettingsSheetIsThere() Then Exit Sub
    chosen = ChooseFile("KPI extracts", "Choose the monthly extract")
    If VarType(chosen) = vbBoolean Then Exit Sub
    PutSetting "extract_path", chosen
    RunRibbon "check_extract"
End Sub

Sub SetTargets(control As IRibbonControl)
    ' The targets file and its financial year go into the settings sheet as cell values;
    ' Python reads and checks them there (the year's forms, the file's every row).
    Dim targetsFile As Variant
    Dim financialYear As String

    If Not SettingsSheetIsThere() Then Exit Sub
    targetsFile = ChooseFile("Targets (ref, target)", "Choose the targets file")
    If VarType(targetsFile) = vbBoolean Then Exit Sub
    financialYear = InputBox("Which financial year are these targets for? (e.g. 2021-22)", TITLE)
    If Len(Trim$(financialYear)) = 0 Then Exit Sub
    PutSetting "targets_path", targetsFile
    PutSetting "targets_year", financialYear
    RunRibbon "set_targets"
End Sub

Private Function ChooseFile(kind As String, prompt As String) As Variant
    ' A CSV or Excel file the user picks (its path), or False when they cancel.
    #If Mac Then
        ChooseFile = Application.GetOpenFilename()
    #Else
        ChooseFile = Application.GetOpenFilename(kind & " (*.csv;*.xlsx),*.csv;*.xlsx", , prompt)
    #End If
End Function

Private Function SettingsSheetIsThere() As Boolean
    ' A workbook is open and has xlkpi's settings sheet; else say what to do.
    SettingsSheetIsThere = False
    If Not WorkbookIsOpen() Then Exit Function
    If Not SheetExists(ActiveWorkbook, SETTINGS_SHEET) Then
        MsgBox "This workbook has no " & SETTINGS_SHEET & " sheet: it is not a KPI dataset " & _
               "workbook yet. Create one with 'xlkpi init'.", vbExclamation, TITLE
        Exit Function
    End If
    SettingsSheetIsThere = True
End Function

Private Sub PutSetting(settingName As String, settingValue As Variant)
    ' Writes the value as text beside the setting's name in the settings sheet, adding the
    ' row if needed.
    Dim sht As Worksheet
    Dim found As Variant
    Dim target As Long

    If Not WorkbookIsOpen() Then Exit Sub
    Set sht = ActiveWorkbook.Worksheets(SETTINGS_SHEET)
    found = Application.Match(settingName, sht.Columns(1), 0)
    If IsError(found) Then
        target = sht.Cells(sht.Rows.Count, 1).End(xlUp).Row + 1
        sht.Cells(target, 1).Value = settingName
    Else
        target = found
    End If
    sht.Cells(target, 2).NumberFormat = "@"
    sht.Cells(target, 2).Value = settingValue
End Sub

Sub UpdateComparators(control As IRibbonControl)
    ' Asks for the local authority and the folder of DfE's files when sheet xlkpi.conf has
    ' no la or dfe_files setting, writes the answers there as cell values, then lets Python
    ' read them (user text never goes into the Python code).
    Dim conf As Worksheet
    Dim answer As Variant
    Dim rowAt As Long

    If Not WorkbookIsOpen() Then Exit Sub

    If Not SheetExists(ActiveWorkbook, SETTINGS_SHEET) Then
        MsgBox "This workbook has no " & SETTINGS_SHEET & " sheet: it is not a KPI dataset " & _
               "workbook yet. Create one with 'xlkpi init'.", vbExclamation, TITLE
        Exit Sub
    End If
    Set conf = ActiveWorkbook.Worksheets(SETTINGS_SHEET)
    rowAt = SettingRow(conf, "la")
    If Len(Trim$(CStr(conf.Cells(rowAt, 2).Value))) = 0 Then
        answer = Application.InputBox("Which local authority? Its name (Southampton), ONS " & _
                                      "code (E06000045) or old LA code (852):", TITLE, Type:=2)
        If VarType(answer) = vbBoolean Then Exit Sub
        If Len(Trim$(CStr(answer))) = 0 Then Exit Sub
        WriteSetting conf, rowAt, "la", Trim$(CStr(answer))
    End If
    rowAt = SettingRow(conf, "dfe_files")
    If Len(Trim$(CStr(conf.Cells(rowAt, 2).Value))) = 0 Then
        answer = ChooseFolder("Choose the folder holding DfE's CSV files and the " & _
                              "statistical neighbour file")
        If Len(answer) = 0 Then Exit Sub
        WriteSetting conf, rowAt, "dfe_files", CStr(answer)
    End If
    RunRibbon "update_comparators"
End Sub

Private Function SettingRow(conf As Worksheet, name As String) As Long
    ' The row of a setting in column A of the settings sheet, or the first empty row below
    ' the settings when it is not there (its value cell is then empty too).
    Dim hit As Variant
    hit = Application.Match(name, conf.Columns(1), 0)
    If IsError(hit) Then
        SettingRow = conf.Cells(conf.Rows.Count, 1).End(xlUp).Row + 1
    Else
        SettingRow = hit
    End If
End Function

Private Sub WriteSetting(conf As Worksheet, rowAt As Long, name As String, value As String)
    ' Puts a setting's name and value (as text) in its row.
    conf.Cells(rowAt, 1).Value = name
    conf.Cells(rowAt, 2).NumberFormat = "@"
    conf.Cells(rowAt, 2).Value = value
End Sub

Private Function ChooseFolder(prompt As String) As String
    ' A folder chosen by the user; "" when cancelled. macOS Excel has no folder dialog that
    ' VBA can open without AppleScript, so there the path is typed.
    Dim answer As Variant
    ChooseFolder = ""
    If InStr(1, Application.OperatingSystem, "Mac", vbTextCompare) > 0 Then
        answer = Application.InputBox(prompt & " (type its full path):", TITLE, Type:=2)
        If VarType(answer) <> vbBoolean Then ChooseFolder = Trim$(CStr(answer))
    Else
        With Application.FileDialog(4)
            .Title = prompt
            .AllowMultiSelect = False
            If .Show = -1 Then ChooseFolder = .SelectedItems(1)
        End With
    End If
End Function

Private Sub RunRibbon(action As String)
    ' Runs ribbon.<action> in Python on the active workbook; action is always a literal above.
    If Not WorkbookIsOpen() Then Exit Sub
    RunPython RIBBON & action & "(addin_xlwings='" & XLWINGS_VERSION & "')"
End Sub

Private Function WorkbookIsOpen() As Boolean
    ' The buttons work on the active workbook: with none open (or only one in Protected View)
    ' say so, instead of VBA's run-time error 91.
    WorkbookIsOpen = Not ActiveWorkbook Is Nothing
    If Not WorkbookIsOpen Then
        MsgBox "Open a KPI dataset workbook first (File > Open), then click the button again." & _
               vbNewLine & vbNewLine & "If the workbook shows a yellow Protected View bar, " & _
               "click Enable Editing first.", vbInformation, TITLE
    End If
End Function

Public Function XlkpiLoadError(number As Long, description As String) As String
    ' Called by the xlwings module when xlwings' DLL (Windows) or AppleScript (macOS) cannot be
    ' loaded. The text shows in the cell of a KPI_ function, or in a message box, and says
    ' which of the two things happened:
    ' 53 "File not found" and xlwings' own 1 "Could not load ... from either of the following
    ' folders": the DLL or AppleScript of this add-in's xlwings version is not where the add-in
    ' looks (another xlwings is installed, or pip put it elsewhere);
    ' 48 "Error in loading DLL": Windows found the DLL but would not load it (32/64-bit
    ' mismatch, or a security rule such as Defender's attack surface reduction).
    If InStr(1, description, "xlwings", vbTextCompare) = 0 Then
        XlkpiLoadError = description
    ElseIf number = 1 Or number = 53 Then
        XlkpiLoadError = "#KPI! This add-in was built for xlwings " & XLWINGS_VERSION & _
            " and cannot find that xlwings' files where it looks: the Python Excel uses has " & _
            "another xlwings, or none, or keeps its DLL elsewhere. " & INSTALL_HINT & " (" & description & ")"
    ElseIf number = 48 Then
        XlkpiLoadError = "#KPI! Windows found xlwings' DLL but would not load it: 32-bit Excel " & _
            "with a 64-bit DLL or the other way round, or a security rule blocking it (ask IT " & _
            "about Defender attack surface reduction rules). " & INSTALL_HINT & " (" & description & ")"
    Else
        XlkpiLoadError = description
    End If
End Function
