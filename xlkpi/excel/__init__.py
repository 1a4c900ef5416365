"""What runs inside Excel, through xlwings: the ribbon, the formula functions, the live workbook."""
