"""Per-case outcomes of the fuzz suite, totalled at the end of the session (see conftest.py).

Every generated case ends as exactly one of:

* ``correct``: the call succeeded and its result passed every check;
* ``clean_error``: the library raised a SynthganError whose message names the culprit;
* ``cli_error``: a CLI command exited 1 with one line ``Error: ...`` and wrote no output file;
* ``traceback``: anything else escaped (an exception that is not a SynthganError, a CLI traceback,
  an abort); the test fails too;
* ``partial_file``: an output file was left half-written or the previous file was lost; the
  test fails too.

``wrong_result`` counts cases whose call succeeded but whose result failed a check (the test fails).
"""

from __future__ import annotations

import contextlib
from collections import Counter

KINDS = ("correct", "clean_error", "cli_error", "traceback", "partial_file", "wrong_result")

COUNTS: Counter[str] = Counter()
BY_TEST: dict[str, Counter[str]] = {}


def record(kind: str, test: str = "") -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown outcome {kind!r}")
    COUNTS[kind] += 1
    if test:
        BY_TEST.setdefault(test, Counter())[kind] += 1


class PartialFileFound(AssertionError):
    """An output file is half-written, or the file it was to replace is lost or altered."""


class TracebackFound(AssertionError):
    """A CLI command crashed (traceback, abort, exit code other than 0 and 1)."""


@contextlib.contextmanager
def counting_failures(test: str):
    """Count an AssertionError as ``wrong_result`` and any other escape as ``traceback``; the
    body records its own success outcome."""
    try:
        yield
    except PartialFileFound:
        record("partial_file", test)
        raise
    except TracebackFound:
        record("traceback", test)
        raise
    except AssertionError:
        record("wrong_result", test)
        raise
    except BaseException as exc:
        # hypothesis' own control flow (assume, stop) is not an outcome of the code under test
        if type(exc).__module__.startswith("hypothesis"):
            raise
        record("traceback", test)
        raise
