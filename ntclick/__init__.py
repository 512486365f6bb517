"""ntclick: precise interactive image segmentation with noise-tolerant clicks.

The torch-free core (``ntclick.clicks``, ``ntclick.fbu``, ``ntclick.clicker``,
``ntclick.metrics``) imports only NumPy and OpenCV.  The predictor and the networks import
torch, so they are loaded lazily on first attribute access::

    from ntclick import NTClickPredictor, Click   # torch is imported only for the predictor
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

# name -> module that defines it; resolved on first access so `import ntclick` stays light.
_LAZY = {
    "Click": "ntclick.clicks",
    "ClickKind": "ntclick.clicks",
    "Prediction": "ntclick.prediction",
    "NTClickPredictor": "ntclick.predictor",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from ntclick.clicks import Click, ClickKind  # noqa: F401
    from ntclick.prediction import Prediction  # noqa: F401
    from ntclick.predictor import NTClickPredictor  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ntclick' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
