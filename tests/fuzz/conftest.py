"""Settings of the fuzz suite: seeds, hypothesis profiles and the outcome totals.

Seeds. Every fuzz test runs twice: once with the fixed seed ``FIXED_SEED`` (the same cases on
every run, so a regression shows at once) and once with a rotating seed, which is today's date
(YYYYMMDD, so each day's CI run tries new cases) unless ``SYNTHGAN_FUZZ_SEED`` is set. Both are
printed before the tests and again in the summary; rerun a failure with
``SYNTHGAN_FUZZ_SEED=<seed> pytest tests/fuzz``.

Profiles (registered here only; chosen by ``SYNTHGAN_FUZZ_PROFILE``):

* ``fuzz`` (default): each test's own example budget, about 1,400 cases in all, ~2.5 minutes on
  two cores;
* ``fuzz-slow`` (``SYNTHGAN_FUZZ_PROFILE=slow``): ten times as many examples of every test.

The session ends with the outcome totals (tests/fuzz/outcomes.py): cases generated, correct
results, clean errors, CLI errors, tracebacks, partial files, wrong results. See README.md.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz import outcomes

FIXED_SEED = 11
BASE_EXAMPLES = 100

_health = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
    HealthCheck.large_base_example,
]
settings.register_profile(
    "fuzz",
    max_examples=BASE_EXAMPLES,
    deadline=None,
    database=None,  # the seeds, not a local database, decide which cases run
    print_blob=True,
    suppress_health_check=_health,
)
settings.register_profile(
    "fuzz-slow",
    max_examples=10 * BASE_EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_health,
)
PROFILE = (
    "fuzz-slow" if os.environ.get("SYNTHGAN_FUZZ_PROFILE", "") in ("slow", "fuzz-slow") else "fuzz"
)
settings.load_profile(PROFILE)


def rotating_seed() -> int:
    given = os.environ.get("SYNTHGAN_FUZZ_SEED", "").strip()
    if given:
        return int(given)
    return int(datetime.date.today().strftime("%Y%m%d"))


ROTATING_SEED = rotating_seed()
SEEDS = {"fixed": FIXED_SEED, "rotating": ROTATING_SEED}


def seed_line() -> str:
    return (
        f"synthgan fuzz: profile {PROFILE}, fixed seed {FIXED_SEED}, rotating seed "
        f"{ROTATING_SEED} (rerun with SYNTHGAN_FUZZ_SEED={ROTATING_SEED})"
    )


_shown = {"header": False}


def pytest_report_header(config):
    # shown when pytest is started on tests/fuzz itself (this conftest is then loaded first)
    _shown["header"] = True
    return seed_line()


def pytest_generate_tests(metafunc):
    if "fuzz_seed" in metafunc.fixturenames:
        metafunc.parametrize("fuzz_seed", list(SEEDS.values()), ids=list(SEEDS))


def pytest_collection_finish(session):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    fuzzing = any("tests/fuzz" in item.nodeid for item in session.items)
    if reporter is not None and fuzzing and not _shown["header"]:
        reporter.write_line(seed_line())


def pytest_sessionfinish(session):
    # a pytest-xdist worker (scripts/test.sh runs two) hands its counts to the controller
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fuzz_outcomes"] = {name: dict(c) for name, c in outcomes.BY_TEST.items()}
        workeroutput["fuzz_counts"] = dict(outcomes.COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller: add a finished worker's outcomes to the summary's."""
    output = getattr(node, "workeroutput", {})
    outcomes.COUNTS.update(output.get("fuzz_counts", {}))
    for name, by_kind in output.get("fuzz_outcomes", {}).items():
        outcomes.BY_TEST.setdefault(name, Counter()).update(by_kind)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = outcomes.COUNTS
    if not counts:
        return
    tr = terminalreporter
    tr.section("synthgan fuzz outcomes")
    tr.write_line(seed_line())
    total = sum(counts.values())
    tr.write_line(
        f"cases generated: {total}; correct: {counts['correct']}; clean errors: "
        f"{counts['clean_error']} (library) + {counts['cli_error']} (CLI); tracebacks: "
        f"{counts['traceback']}; partial files: {counts['partial_file']}; wrong results: "
        f"{counts['wrong_result']}"
    )
    width = max(len(name) for name in outcomes.BY_TEST)
    for name, by_kind in sorted(outcomes.BY_TEST.items()):
        parts = ", ".join(f"{k} {by_kind[k]}" for k in outcomes.KINDS if by_kind[k])
        tr.write_line(f"  {name:<{width}}  {parts}")


@pytest.fixture
def outcome(request):
    """``outcome("correct")`` records one case of the current test (by its function name)."""
    name = request.node.originalname or request.node.name

    def record(kind: str) -> None:
        outcomes.record(kind, name)

    record.test = name
    return record
