"""The KPI data and its rules in memory: pure Python, pandas and numpy; no files, no Excel."""
