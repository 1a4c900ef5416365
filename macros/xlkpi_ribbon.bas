Attribute VB_Name = "xlkpi_ribbon"
' Callbacks of the "KPI dataset" ribbon tab (customUI14.xml).
' Each button hands over to Python (package xlkpi) through xlwings' RunPython. The Python
' code strings are constants: user text such as paths is never put into them; Python reads
' it from the workbook instead.
Option Explicit

Private Const SETTINGS_SHEET As String = "xlkpi.conf"
Private Const RIBBON As String = "import xlkpi.excel.ribbon as ribbon; ribbon."

Sub Ribbon_Load(ribbonUI As IRibbonUI)
    RegisterFunctionHelp
End Sub

Sub RefreshMonth(control As IRibbonControl)
    RunPython RIBBON & "refresh_month()"
End Sub

Sub UndoRefresh(control As IRibbonControl)
    If MsgBox("Put the workbook back as it was before the last refresh?", _
              vbOKCancel + vbQuestion, "KPI dataset") = vbOK Then
        RunPython RIBBON & "undo_refresh()"
    End If
End Sub

Sub ValidateData(control As IRibbonControl)
    RunPython RIBBON & "validate_data()"
End Sub

Sub Recalculate(control As IRibbonControl)
    RunPython RIBBON & "recalculate()"
End Sub

Sub ApplyFormatting(control As IRibbonControl)
    RunPython RIBBON & "apply_formatting()"
End Sub

Sub ExportPdf(control As IRibbonControl)
    RunPython RIBBON & "export_pdf()"
End Sub

Sub SettingsHelp(control As IRibbonControl)
    RunPython RIBBON & "settings_help()"
End Sub

Sub ChooseExtract(control As IRibbonControl)
    ' The chosen path goes into the settings sheet as a cell value; Python reads it there.
    Dim chosen As Variant
    Dim sht As Worksheet
    Dim found As Variant
    Dim target As Long

    If Not SheetExists(ActiveWorkbook, SETTINGS_SHEET) Then
        MsgBox "This workbook has no " & SETTINGS_SHEET & " sheet: it is not a KPI dataset " & _
               "workbook yet. Create one with 'xlkpi init'.", vbExclamation, "KPI dataset"
        Exit Sub
    End If
    #If Mac Then
        chosen = Application.GetOpenFilename()
    #Else
        chosen = Application.GetOpenFilename("KPI extracts (*.csv;*.xlsx),*.csv;*.xlsx", , _
                                             "Choose the monthly extract")
    #End If
    If VarType(chosen) = vbBoolean Then Exit Sub

    Set sht = ActiveWorkbook.Worksheets(SETTINGS_SHEET)
    found = Application.Match("extract_path", sht.Columns(1), 0)
    If IsError(found) Then
        target = sht.Cells(sht.Rows.Count, 1).End(xlUp).Row + 1
        sht.Cells(target, 1).Value = "extract_path"
    Else
        target = found
    End If
    sht.Cells(target, 2).NumberFormat = "@"
    sht.Cells(target, 2).Value = chosen
    RunPython RIBBON & "check_extract()"
End Sub
