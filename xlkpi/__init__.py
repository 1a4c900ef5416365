"""xlkpi: the children's services monthly KPI dataset workbook, with or without Excel."""

__version__ = "0.2.0"
