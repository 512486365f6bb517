"""Build the networks by preset name, config or config dict (``build_hrr("tiny")``).

Presets live in name -> config tables, one per network (like timm's model registry);
``register_preset`` adds a named config so it can be built and listed like the built-in ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ntclick.modeling.config import ECP_PRESETS, HRR_PRESETS, ECPConfig, HRRConfig
from ntclick.modeling.ecp import ECP
from ntclick.modeling.hrr import HRR

__all__ = ["build_ecp", "build_hrr", "list_models", "register_preset", "resolve_config"]

_ConfigT = TypeVar("_ConfigT", ECPConfig, HRRConfig)

_PRESETS: dict[type, dict[str, Any]] = {ECPConfig: ECP_PRESETS, HRRConfig: HRR_PRESETS}


def resolve_config(
    config_type: type[_ConfigT], name_or_config: str | _ConfigT | Mapping[str, Any], **overrides: Any
) -> _ConfigT:
    """A new config of ``config_type`` from a preset name, a config or a ``to_dict()`` dict, with
    ``overrides`` applied. Unknown preset names and unknown keys raise ``ValueError``."""
    presets = _PRESETS[config_type]
    if isinstance(name_or_config, str):
        if name_or_config not in presets:
            kind = config_type.__name__.removesuffix("Config")
            raise ValueError(f"unknown {kind} preset {name_or_config!r}; available: {sorted(presets)}")
        base = presets[name_or_config]
    elif isinstance(name_or_config, config_type):
        base = name_or_config
    elif isinstance(name_or_config, Mapping):
        base = config_type.from_dict(name_or_config)
    else:
        raise TypeError(
            f"expected a preset name, {config_type.__name__} or dict, got {type(name_or_config).__name__}"
        )
    return base.replace(**overrides)  # always a copy: presets are never mutated


def build_ecp(name_or_config: str | ECPConfig | Mapping[str, Any], **overrides: Any) -> ECP:
    """An ECP with freshly initialized weights, e.g. ``build_ecp("base")`` or
    ``build_ecp(config_dict)`` or ``build_ecp("tiny", depth=2)``."""
    return ECP(resolve_config(ECPConfig, name_or_config, **overrides))


def build_hrr(name_or_config: str | HRRConfig | Mapping[str, Any], **overrides: Any) -> HRR:
    """An HRR with freshly initialized weights, e.g. ``build_hrr("tiny")`` or
    ``build_hrr("base", block_pattern="global")``."""
    return HRR(resolve_config(HRRConfig, name_or_config, **overrides))


def list_models() -> dict[str, list[str]]:
    """Preset names per network: ``{"ecp": [...], "hrr": [...]}``."""
    return {"ecp": list(ECP_PRESETS), "hrr": list(HRR_PRESETS)}


def register_preset(config: ECPConfig | HRRConfig, *, overwrite: bool = False) -> None:
    """Make ``config`` buildable under ``config.name`` (``build_ecp``/``build_hrr`` by its type)."""
    presets = _PRESETS.get(type(config))
    if presets is None:
        raise TypeError(f"expected an ECPConfig or HRRConfig, got {type(config).__name__}")
    if config.name in presets and not overwrite:
        raise ValueError(f"preset {config.name!r} already exists; pass overwrite=True to replace it")
    presets[config.name] = config.replace()
