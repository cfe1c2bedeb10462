"""Differential privacy for synthgan: the accountant, the private statistics, DP-SGD for the critic.

See docs/privacy.md for the design. Needs the optional dependency ``opacus``.
"""
