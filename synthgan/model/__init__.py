"""The conditional GAN: networks, condition sampler, losses, training loop and the estimator."""

from synthgan.model.synthesizer import Synthesizer, load

__all__ = ["Synthesizer", "load"]
