"""``python -m tests.fuzz._slow_write MARKER ARGS...``: run ``synthgan ARGS`` with every file
write made to stop half-way, touch MARKER and sleep, so that a test can SIGKILL the process in
the middle of writing its output."""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq


def _stall(marker: Path) -> None:
    marker.touch()
    time.sleep(600)


def main() -> None:
    marker, args = Path(sys.argv[1]), sys.argv[2:]
    writestr, write_table = zipfile.ZipFile.writestr, pq.ParquetWriter.write_table

    def slow_writestr(self, name, data, *a, **k):
        writestr(self, name, data, *a, **k)
        if name == "weights.pt":  # meta.json and the weights are in the file, the checksum not
            _stall(marker)

    def slow_write_table(self, *a, **k):
        write_table(self, *a, **k)
        _stall(marker)

    def slow_to_csv(self, path=None, *a, **k):
        text = self.to_string()[:50]
        Path(path).write_text(text)  # half a table
        _stall(marker)

    zipfile.ZipFile.writestr = slow_writestr
    pq.ParquetWriter.write_table = slow_write_table
    pd.DataFrame.to_csv = slow_to_csv
    from synthgan.cli import main as synthgan

    synthgan(args)


if __name__ == "__main__":
    main()
