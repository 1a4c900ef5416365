"""Write the bundled published.csv and judgments.csv from the Dec-20 seed, or compare a
built Dec-20 workbook with the seed (xlkpi/files/seed.py holds both):

    python scripts/seed_compare.py write     # workbook_templates/published.csv, judgments.csv
    python scripts/seed_compare.py compare BOOK.xlsx   # per column: cells matching the seed
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from xlkpi.files.seed import compare, write
from xlkpi.resources import templates_dir

if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        write(templates_dir())
    else:
        pd.set_option("display.max_colwidth", None, "display.width", 250)
        print(compare(Path(sys.argv[2])).to_string(index=False))
