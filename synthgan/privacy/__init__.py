"""Differential privacy for synthgan: the accountant, the private statistics, DP-SGD for the critic.

See docs/privacy.md for the design. Needs the optional dependency ``opacus``.
"""

from synthgan.model.training import register_fit
from synthgan.privacy.dp_training import fit_private

register_fit("private", fit_private)  # Synthesizer(epsilon=...).fit runs it
