"""Workbook files without Excel: the package, its sheets, the store inside it, and extracts."""
