"""Writes that cannot finish: an output folder that cannot be written (under a regular file,
read-only), a full disk, Ctrl-C inside the write, SIGKILL in the middle of it. The output is
written whole or not at all: no half-written file, and a previous file of that name is intact."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from synthgan import Synthesizer
from synthgan.model import load
from tests.conftest import make_mixed_frame
from tests.fuzz.cli import FAST_FIT, invoke, leftovers
from tests.fuzz.outcomes import PartialFileFound, TracebackFound, counting_failures

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("inputs")
    make_mixed_frame(n=100, nulls=True).to_parquet(directory / "t.parquet")
    Synthesizer(
        epochs=1, batch_size=20, pac=10, embedding_dim=8, generator_dims=(16,),
        discriminator_dims=(16,), device="cpu", verbose=False, random_state=0,
    ).fit(pd.read_parquet(directory / "t.parquet")).save(directory / "m.synthgan")  # fmt: skip
    return directory


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


COMMANDS = {
    # name: (args with {out}, output suffix)
    "fit -o": (["fit", "{table}", "-o", "{out}", *FAST_FIT], ".synthgan"),
    "sample -o parquet": (["sample", "{model}", "-n", "7", "-o", "{out}", "-q"], ".parquet"),
    "sample -o csv": (["sample", "{model}", "-n", "7", "-o", "{out}", "-q"], ".csv"),
    "evaluate --json": (["evaluate", "{table}", "{table}", "--json", "{out}"], ".json"),
}


def args_for(command: str, inputs: Path, out: Path) -> list[str]:
    args, _ = COMMANDS[command]
    fields = {"table": inputs / "t.parquet", "model": inputs / "m.synthgan", "out": out}
    return [a.format(**fields) for a in args]


def previous_output(directory: Path, suffix: str) -> Path:
    """An earlier output of the same name, which a failed write must leave as it was."""
    out = directory / f"out{suffix}"
    out.write_bytes(b"the previous file\n")
    return out


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("where", ["under a regular file", "read-only folder"])
def test_an_output_that_cannot_be_written(command, where, inputs, tmp_path, monkeypatch, outcome):
    suffix = COMMANDS[command][1]
    if where == "under a regular file":
        (tmp_path / "file.txt").write_text("not a folder")
        out = tmp_path / "file.txt" / f"out{suffix}"
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        out = folder / f"out{suffix}"
        if os.geteuid() == 0:  # root writes anywhere: make creating the file fail as it would

            def refuse(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied", str(folder))

            monkeypatch.setattr(tempfile, "mkstemp", refuse)
            monkeypatch.setattr(os, "access", lambda *a, **k: True)
        else:
            folder.chmod(0o500)
    with counting_failures(outcome.test):
        status, result = invoke(args_for(command, inputs, out), [out])
        assert status == "error", f"{command} {where}: {result.output}"
        assert str(out) in result.stderr, result.stderr
        outcome("cli_error")


def _faulty(original, fault: BaseException, after: bool):
    """``original`` that raises ``fault``, after doing its work (``after``) or before."""

    def call(*args, **kwargs):
        if after:
            original(*args, **kwargs)
        raise fault

    return call


WRITERS = {  # what the command's write goes through
    "fit -o": (zipfile.ZipFile, "writestr"),
    "sample -o parquet": (pq.ParquetWriter, "write_table"),
    "sample -o csv": (pd.DataFrame, "to_csv"),
    "evaluate --json": (Path, "write_bytes"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("fault", ["disk full", "ctrl-c"])
@pytest.mark.parametrize("after", [False, True], ids=["before-writing", "after-writing"])
def test_a_write_that_fails_half_way(command, fault, after, inputs, tmp_path, monkeypatch, outcome):
    suffix = COMMANDS[command][1]
    out = previous_output(tmp_path, suffix)
    before = digest(out)
    owner, name = WRITERS[command]
    error = (
        OSError(errno.ENOSPC, "No space left on device")
        if fault == "disk full"
        else KeyboardInterrupt()
    )
    monkeypatch.setattr(owner, name, _faulty(getattr(owner, name), error, after))
    with counting_failures(outcome.test):
        if fault == "disk full":
            status, result = invoke(args_for(command, inputs, out), [out])
            assert status == "error", result.output
            assert "No space left on device" in result.stderr and str(out) in result.stderr
        else:
            from click.testing import CliRunner

            from synthgan.cli import main

            result = CliRunner().invoke(main, args_for(command, inputs, out))
            if result.exit_code != 130 or "Traceback" in result.output:
                raise TracebackFound(f"Ctrl-C: exit {result.exit_code}: {result.output}")
        if digest(out) != before:
            raise PartialFileFound(f"{command}: the previous {out.name} was replaced")
        if leftovers(tmp_path):
            raise PartialFileFound(f"{command}: temporary files left: {leftovers(tmp_path)}")
        outcome("cli_error")


@pytest.mark.parametrize("command", ["fit -o", "sample -o parquet", "sample -o csv"])
def test_sigkill_in_the_middle_of_a_write(command, inputs, tmp_path, outcome):
    """A real process killed while its output is half-written: the target keeps the previous
    model or table whole. (The hidden temporary file beside it cannot be removed by a process
    that is killed; the next write of the same name makes a new one.)"""
    suffix = COMMANDS[command][1]
    previous = inputs / "m.synthgan" if suffix == ".synthgan" else None
    out = tmp_path / f"out{suffix}"
    if previous is not None:
        out.write_bytes(previous.read_bytes())
    else:
        pd.DataFrame({"a": [1, 2]}).to_parquet(out) if suffix == ".parquet" else out.write_text(
            "a\n1\n2\n"
        )
    before = digest(out)
    marker = tmp_path / "writing"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fuzz._slow_write", str(marker),
         *args_for(command, inputs, out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    with counting_failures(outcome.test):
        try:
            deadline = time.monotonic() + 240
            while not marker.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise TracebackFound(
                        f"never reached the write: exit {process.poll()}, "
                        f"{process.stderr.read().decode()[-2000:]}"
                    )
                time.sleep(0.05)
            half_written = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            assert half_written, "the write did not go through a temporary file"
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)  # reaps it and closes its pipes
        if digest(out) != before:
            raise PartialFileFound(f"{command}: SIGKILL mid-write replaced {out.name}")
        if suffix == ".synthgan":
            load(out, device="cpu")  # still the whole previous model
        outcome("correct")
