"""Running a synthgan command the way a user would, and judging how it ended."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

from click.testing import CliRunner

from synthgan.cli import main
from tests.fuzz.outcomes import PartialFileFound, TracebackFound

HIDDEN_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
FAST_FIT = ["--epochs", "1", "--batch-size", "10", "--seed", "0", "--device", "cpu", "--quiet"]


def snapshot(paths: list[Path]) -> dict[Path, str | None]:
    """Each path's content hash (None: absent), to compare after a failed command."""
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None for p in paths}


def leftovers(directory: Path) -> list[str]:
    """Temporary files an atomic write left behind."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def invoke(args: list[str], outputs: list[Path] = ()) -> tuple[str, object]:
    """Run ``synthgan ARGS``; return ("ok", result) or ("error", result) after checking that it
    ended cleanly: exit 0, or exit 1 with one line "Error: ..." on stderr and every output as it
    was before (absent, or the previous file intact), no temporary file left beside them, and
    no Python warning shown."""
    before = snapshot(list(outputs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, [str(a) for a in args])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise TracebackFound(
            f"synthgan {' '.join(map(str, args))} raised {type(result.exception).__name__}: "
            f"{result.exception}\n{text}"
        ) from result.exception
    if "Traceback" in text or result.exit_code not in (0, 1):
        raise TracebackFound(f"exit {result.exit_code}: {text}")
    # a warning reaches the user's terminal as lines of Python source: the command's business
    # is to say it in its own words or not at all. Python's default filters hide the kinds below
    # outside __main__ (an old matplotlib's pyparsing deprecations, say), so a user sees no such
    shown = [
        f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
        for w in caught
        if not issubclass(w.category, HIDDEN_BY_DEFAULT)
    ]
    assert not shown, f"synthgan {' '.join(map(str, args))} showed warnings:\n" + "\n".join(shown)
    for directory in {Path(p).parent for p in outputs}:
        left = leftovers(directory)
        if left:
            raise PartialFileFound(f"temporary files left in {directory}: {left}")
    if result.exit_code == 0:
        return "ok", result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"not a one-line error: {text!r}"
    after = snapshot(list(outputs))
    changed = [str(p) for p in outputs if after[p] != before[p]]
    if changed:
        raise PartialFileFound(f"a failed command changed {changed}: {text}")
    return "error", result
