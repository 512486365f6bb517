"""The two NTClick networks: ECP (coarse FBU perception) and HRR (high-resolution refine).

    from ntclick.modeling import build_ecp, build_hrr, normalize_image
    hrr = build_hrr("tiny").eval()
    mask = hrr(normalize_image(image_uint8, hrr.config.pixel_mean, hrr.config.pixel_std), fbu)

See ``docs/models.md`` for the architectures, presets and costs.
"""

from ntclick.modeling.config import ECP_PRESETS, HRR_PRESETS, ECPConfig, HRRConfig
from ntclick.modeling.ecp import ECP
from ntclick.modeling.grid_attention import (
    PartitionedAttention,
    grid_partition,
    grid_reverse,
    window_partition,
    window_reverse,
)
from ntclick.modeling.hrr import HRR, HRRImageFeatures
from ntclick.modeling.preprocess import normalize_image, pad_to_multiple, padded_size
from ntclick.modeling.registry import build_ecp, build_hrr, list_models, register_preset

__all__ = [
    "ECPConfig",
    "HRRConfig",
    "ECP_PRESETS",
    "HRR_PRESETS",
    "ECP",
    "HRR",
    "HRRImageFeatures",
    "build_ecp",
    "build_hrr",
    "list_models",
    "register_preset",
    "normalize_image",
    "pad_to_multiple",
    "padded_size",
    "PartitionedAttention",
    "window_partition",
    "window_reverse",
    "grid_partition",
    "grid_reverse",
]
