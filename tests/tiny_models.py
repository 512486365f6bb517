"""Miniature ECP/HRR configs for tests: the presets' architecture with a few thousand parameters.

Imported by the predictor, hub, CLI and example tests (``tests/`` is on ``sys.path`` under
pytest's default import mode); the ``tiny_weights`` fixture in ``conftest.py`` saves them once.
"""

from __future__ import annotations

ECP_TINY = dict(
    embed_dim=32, depth=2, num_heads=2, pyramid_widths=(8, 8, 8, 8), decoder_dim=8, pos_embed_size=128
)
HRR_TINY = dict(
    embed_dim=32,
    depth=2,
    num_heads=2,
    pos_embed_size=256,
    detail_widths=(4, 4, 4, 4),
    fusion_widths=(8, 8, 8, 4),
    head_width=4,
)


def tiny_networks(seed: int = 0, hrr_overrides: dict | None = None):
    """``(ecp, hrr)`` built from the tiny presets with the overrides above, seeded."""
    import torch

    from ntclick.modeling import build_ecp, build_hrr

    torch.manual_seed(seed)
    return build_ecp("tiny", **ECP_TINY), build_hrr("tiny", **{**HRR_TINY, **(hrr_overrides or {})})
