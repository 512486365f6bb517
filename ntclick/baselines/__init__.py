"""Classical baselines that run through the same evaluation harness as the network.

Torch-free: ``from ntclick.baselines import GrabCutPredictor`` imports NumPy and OpenCV only.
"""

from ntclick.baselines.grabcut import GrabCutPredictor

__all__ = ["GrabCutPredictor"]
