"""How long a fit with ``epochs="auto"`` trains: ``AUTO_STEPS`` generator steps, and on while a
check says the rows are still getting harder to tell from real ones.

The check is the rejection sampler's classifier (:func:`synthgan.model.selection.fit_row_critic`)
fitted on up to ``CHECK_ROWS`` training rows against as many rows the generator draws (no
selection), and read on its held-out fifth: a log-loss of log 2 means it cannot tell them apart.
It runs after two thirds of ``AUTO_STEPS`` and after ``AUTO_STEPS``, then after every further
stretch of ``STRETCH_STEPS``. Training goes on while the held-out loss rose by at least
``MIN_GAIN`` per ``STRETCH_STEPS`` steps since the check before, up to ``AUTO_MAX_STEPS`` steps.

The loss is what the fit can see without reading held-out rows the generator did not train on,
and measured next to the benchmark's scores it follows them (docs/training.md, "Training
length"): on caravan it rose 0.47 -> 0.54 -> 0.65 at 2,000 / 3,000 / 4,000 steps while the
benchmark's detection AUC fell 0.96 -> 0.94; on Adult it rose 0.613 -> 0.627 from 2,000 to
3,000 steps, where the detection AUC stood still (0.556, 0.555).
"""

from __future__ import annotations

from dataclasses import dataclass, field

AUTO_STEPS = 3_000
"""Generator steps of a fit with ``epochs="auto"`` before its length is checked."""
AUTO_MAX_STEPS = 9_000
"""At most this many steps with ``epochs="auto"``."""
STRETCH_STEPS = 1_000
"""Steps between checks after ``AUTO_STEPS``."""
MIN_GAIN = 0.03
"""The check's held-out loss must rise by this much per ``STRETCH_STEPS`` steps to train on
(about twice the noise of a difference of two checks on a table of 4,000 rows)."""
CHECK_ROWS = 10_000
"""Training rows (and as many generated ones) a check's classifier reads, at most."""
AUTO_MIN_EPOCHS = 5
AUTO_MAX_EPOCHS = 1_000


def epochs_for_steps(steps: int, steps_per_epoch: int) -> int:
    """Whole epochs for at least ``steps`` steps, within [AUTO_MIN_EPOCHS, AUTO_MAX_EPOCHS]."""
    wanted = -(-int(steps) // max(int(steps_per_epoch), 1))
    return int(min(max(wanted, AUTO_MIN_EPOCHS), AUTO_MAX_EPOCHS))


def auto_epochs(steps_per_epoch: int) -> int:
    """The epochs of ``AUTO_STEPS`` steps: what an ``epochs="auto"`` fit trains before checking."""
    return epochs_for_steps(AUTO_STEPS, steps_per_epoch)


@dataclass
class AutoLength:
    """The plan of an ``epochs="auto"`` fit: which epochs end with a check, and after each check
    the epoch to train to. ``checks`` holds (epoch, held-out loss) as read."""

    steps_per_epoch: int
    checks: list[tuple[int, float]] = field(default_factory=list)

    @property
    def base_epochs(self) -> int:
        return auto_epochs(self.steps_per_epoch)

    @property
    def max_epochs(self) -> int:
        return max(epochs_for_steps(AUTO_MAX_STEPS, self.steps_per_epoch), self.base_epochs)

    @property
    def stretch_epochs(self) -> int:
        return max(1, -(-STRETCH_STEPS // max(self.steps_per_epoch, 1)))

    def checks_at(self, epoch: int, target: int) -> bool:
        """Whether the epoch just trained ends with a check (``target``: the epoch planned)."""
        if self.max_epochs == self.base_epochs or self.base_epochs < 3:
            return False  # no room to train on, or too short a fit for two checks
        first = round(self.base_epochs * 2 / 3)
        return epoch == first or (epoch == target and self.base_epochs <= epoch < self.max_epochs)

    def record(self, epoch: int, loss: float) -> int:
        """Record the check after ``epoch``; returns the epoch to train to (``epoch``: stop)."""
        self.checks.append((epoch, float(loss)))
        if epoch < self.base_epochs:
            return self.base_epochs
        if len(self.checks) < 2:
            return epoch
        (before, loss_before), (now, loss_now) = self.checks[-2], self.checks[-1]
        wanted = MIN_GAIN * (now - before) * self.steps_per_epoch / STRETCH_STEPS
        if loss_now - loss_before < wanted:
            return epoch
        return min(epoch + self.stretch_epochs, self.max_epochs)
