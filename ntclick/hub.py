"""NTClick weights: a folder or a Hugging Face Hub repo with ``config.json`` + ``model.safetensors``.

Layout (the same for a local folder and a Hub repo)::

    config.json         {"format_version": 1, "ntclick_version": "0.1.0",
                         "ecp": ECPConfig.to_dict(), "hrr": HRRConfig.to_dict(),
                         "predictor": {"ecp_size": 448, "mask_threshold": 0.5, "clamp_to_fbu": true}}
    model.safetensors   tensors "ecp.<state_dict key>" and "hrr.<state_dict key>", metadata {"format": "pt"}

Loading is strict: a missing or unexpected tensor, a shape mismatch, a config written by a
newer format, or a file that is not what it should be raises an error that names the file
and the problem.  Only safetensors are read (never pickles), so loading weights cannot run code.

A local folder is read from disk and never touches the network.  Anything else is taken as a
Hub repo id and fetched with :func:`huggingface_hub.hf_hub_download`, which keeps its own
cache; ``HF_HUB_OFFLINE=1`` (read at call time) or ``local_files_only=True`` restrict it to
that cache.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ntclick.image_io import atomic_path, atomic_write_bytes

if TYPE_CHECKING:  # pragma: no cover
    from ntclick.modeling import ECP, HRR

__all__ = [
    "FORMAT_VERSION",
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "PREDICTOR_DEFAULTS",
    "save_pretrained",
    "load_pretrained",
    "resolve_files",
    "read_config",
    "push_to_hub",
    "parse_dtype",
    "parse_device",
]

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"

# Predictor settings stored with the weights (the "predictor" entry of config.json).
PREDICTOR_DEFAULTS: dict[str, Any] = {
    "ecp_size": None,
    "mask_threshold": 0.5,
    "clamp_to_fbu": True,
    "refine": True,
    "zoom_in": False,
    "brs_steps": 0,
    "grabcut_iterations": 0,
    "click_components": False,
    "click_guard": False,
}

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}
_SUPPORTED_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_PREFIXES = ("ecp.", "hrr.")


# --------------------------------------------------------------------------- device / dtype


def parse_dtype(dtype: str | torch.dtype | None, default: torch.dtype = torch.float32) -> torch.dtype:
    """``None``, a ``torch.dtype`` or one of ``"float32"``, ``"float16"``, ``"bfloat16"`` (or
    ``fp32``/``fp16``/``half``/``bf16``) -> a supported floating ``torch.dtype``."""
    if dtype is None:
        return default
    if isinstance(dtype, torch.dtype):
        if dtype not in _SUPPORTED_DTYPES:
            raise ValueError(f"unsupported dtype {dtype}: expected float32, float16 or bfloat16")
        return dtype
    if isinstance(dtype, str) and dtype.strip().lower().removeprefix("torch.") in _DTYPES:
        return _DTYPES[dtype.strip().lower().removeprefix("torch.")]
    raise ValueError(f"unsupported dtype {dtype!r}: expected 'float32', 'float16' or 'bfloat16'")


def parse_device(device: str | torch.device | None) -> torch.device:
    """``None`` (CPU), a ``torch.device`` or a string such as ``"cpu"``, ``"cuda"``, ``"cuda:1"``,
    ``"mps"`` -> a ``torch.device`` that exists on this machine; otherwise ``ValueError``."""
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"invalid device {device!r}: expected e.g. 'cpu', 'cuda', 'cuda:0' or 'mps'"
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available on this machine")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif dev.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ValueError(f"device {device!r} requested but MPS is not available on this machine")
    elif dev.type != "cpu":
        raise ValueError(f"unsupported device {device!r}: expected 'cpu', 'cuda[:N]' or 'mps'")
    return dev


# --------------------------------------------------------------------------- saving


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _state_tensors(
    prefix: str, module: torch.nn.Module, dtype: torch.dtype | None
) -> dict[str, torch.Tensor]:
    out = {}
    for key, tensor in module.state_dict().items():
        t = tensor.detach().to("cpu")
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        # safetensors refuses views of shared storage; a private contiguous copy is always safe.
        out[prefix + key] = t.contiguous().clone()
    return out


def save_pretrained(
    folder: str | os.PathLike,
    ecp: ECP,
    hrr: HRR,
    *,
    predictor_config: Mapping[str, Any] | None = None,
    dtype: str | torch.dtype | None = None,
) -> Path:
    """Write ``config.json`` and ``model.safetensors`` for ``ecp`` and ``hrr`` into ``folder``.

    Each file is written to a temporary file in ``folder`` and renamed, so a reader never sees
    a half-written file.  ``dtype`` (e.g. ``"float16"``) converts floating tensors before
    saving; ``None`` keeps the models' dtype.  ``predictor_config`` holds the predictor
    settings (keys of :data:`PREDICTOR_DEFAULTS`; missing ones take their defaults).

    Returns the folder as a ``Path``.
    """
    from safetensors.torch import save_file

    import ntclick

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"cannot save weights to {folder}: it exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    settings = _check_predictor_config(dict(predictor_config or {}), source="predictor_config")
    target = parse_dtype(dtype) if dtype is not None else None

    tensors = {**_state_tensors("ecp.", ecp, target), **_state_tensors("hrr.", hrr, target)}
    with atomic_path(folder / WEIGHTS_NAME) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt"})

    config = {
        "format_version": FORMAT_VERSION,
        "ntclick_version": ntclick.__version__,
        "ecp": ecp.config.to_dict(),
        "hrr": hrr.config.to_dict(),
        "predictor": settings,
    }
    _atomic_write_text(folder / CONFIG_NAME, json.dumps(config, indent=2) + "\n")
    return folder


def push_to_hub(
    repo_id: str,
    ecp: ECP,
    hrr: HRR,
    *,
    predictor_config: Mapping[str, Any] | None = None,
    dtype: str | torch.dtype | None = None,
    private: bool | None = None,
    token: str | bool | None = None,
    revision: str | None = None,
    commit_message: str = "Upload NTClick weights",
    create_repo: bool = True,
) -> Any:
    """Save the weights to a temporary folder and upload it to the Hub repo ``repo_id``.

    Uses :class:`huggingface_hub.HfApi` (``create_repo(exist_ok=True)`` then
    ``upload_folder``); needs a token with write access (``hf auth login`` or ``token=``).
    Returns the ``CommitInfo`` of the upload.
    """
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    if create_repo:
        api.create_repo(repo_id, private=private, exist_ok=True, token=token)
    with tempfile.TemporaryDirectory(prefix="ntclick-push-") as tmp:
        save_pretrained(tmp, ecp, hrr, predictor_config=predictor_config, dtype=dtype)
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=tmp,
            commit_message=commit_message,
            revision=revision,
            token=token,
        )


# --------------------------------------------------------------------------- finding the files


def _hub_offline() -> bool:
    # Read the environment at call time (huggingface_hub reads it once at import).
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE")
    if value is not None:
        return value.strip().upper() in {"1", "ON", "YES", "TRUE"}
    return bool(constants.HF_HUB_OFFLINE)


def resolve_files(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> tuple[Path, Path]:
    """Return the local paths of ``(config.json, model.safetensors)``.

    ``name_or_path`` that is an existing folder is used as is (no network).  Otherwise it must
    be a Hub repo id (``"org/name"``) whose ``org`` is not a local folder (then it is taken as
    a mistyped path); both files are fetched through the Hugging Face cache
    (``cache_dir`` or the default one), from the cache only when ``local_files_only`` is set or
    the environment says ``HF_HUB_OFFLINE=1``.

    Raises:
        FileNotFoundError: the folder lacks a file, the repo id is neither a folder nor a
            valid repo id, or the files are neither cached nor downloadable.
    """
    path = Path(os.fspath(name_or_path)).expanduser()
    if path.is_dir():
        config_path, weights_path = path / CONFIG_NAME, path / WEIGHTS_NAME
        for p in (config_path, weights_path):
            if not p.is_file():
                raise FileNotFoundError(_missing_file_message(path, p.name))
        return config_path, weights_path
    if path.exists():
        raise ValueError(
            f"{path} is a file; pass the folder that holds {CONFIG_NAME} and {WEIGHTS_NAME} instead"
        )

    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils import validate_repo_id

    import ntclick

    repo_id = os.fspath(name_or_path)
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise FileNotFoundError(
            f"weights {repo_id!r} not found: no such folder, and it is not a valid Hugging Face Hub repo id"
        ) from None
    if "/" in repo_id and Path(repo_id.split("/")[0]).is_dir():
        # "runs/export" with a local "runs/" folder is a mistyped path, not a Hub repo: fail now
        # rather than after the Hub client's retries.
        raise FileNotFoundError(
            f"weights folder {repo_id!r} not found (the local folder {repo_id.split('/')[0]!r} exists, so this "
            "is read as a path, not a Hub repo id)"
        )

    offline = local_files_only or _hub_offline()
    files = []
    for filename in (CONFIG_NAME, WEIGHTS_NAME):
        try:
            files.append(
                Path(
                    hf_hub_download(
                        repo_id,
                        filename,
                        revision=revision,
                        cache_dir=cache_dir,
                        local_files_only=offline,
                        token=token,
                        library_name="ntclick",
                        library_version=ntclick.__version__,
                    )
                )
            )
        except LocalEntryNotFoundError as exc:
            where = "offline mode (HF_HUB_OFFLINE=1 or local_files_only=True)" if offline else "no connection"
            raise FileNotFoundError(
                f"{filename} of Hub repo {repo_id!r}"
                f"{f' at revision {revision!r}' if revision else ''} is not in the Hugging Face cache "
                f"({cache_dir or 'default cache'}) and cannot be downloaded: {where}; "
                f"no local folder {repo_id!r} exists either"
            ) from exc
        except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
            raise FileNotFoundError(
                f"Hub repo {repo_id!r}{f' at revision {revision!r}' if revision else ''} not found "
                f"(or not accessible with the given token); no local folder {repo_id!r} exists either"
            ) from exc
        except EntryNotFoundError as exc:
            raise FileNotFoundError(f"Hub repo {repo_id!r} has no file {filename}") from exc
    return files[0], files[1]


def _missing_file_message(folder: Path, name: str) -> str:
    msg = f"weights folder {folder} has no {name}"
    if name == WEIGHTS_NAME and any(any(folder.glob(pattern)) for pattern in ("*.bin", "*.pt", "*.pth")):
        msg += " (found a .bin/.pt/.pth file: only safetensors weights are loaded; convert it first)"
    return msg + f"; an NTClick weights folder holds {CONFIG_NAME} and {WEIGHTS_NAME}"


# --------------------------------------------------------------------------- loading


def _check_predictor_config(settings: dict[str, Any], source: str) -> dict[str, Any]:
    unknown = sorted(set(settings) - set(PREDICTOR_DEFAULTS))
    if unknown:
        raise ValueError(
            f"{source}: unknown predictor settings {unknown}; known: {sorted(PREDICTOR_DEFAULTS)}"
        )
    return {**PREDICTOR_DEFAULTS, **settings}


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check an NTClick ``config.json``; errors name the file and the problem."""
    path = Path(path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a valid JSON file ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(config).__name__}")
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(
            f"{path}: missing or invalid 'format_version' (expected an integer, got {version!r})"
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path}: format_version {version} is newer than this ntclick supports ({FORMAT_VERSION}); "
            f"the weights were written by ntclick {config.get('ntclick_version', '?')}: upgrade ntclick"
        )
    if version < 1:
        raise ValueError(f"{path}: invalid format_version {version}")
    for key in ("ecp", "hrr"):
        if not isinstance(config.get(key), dict):
            raise ValueError(
                f"{path}: missing or invalid {key!r} entry (expected the network's config object)"
            )
    predictor = config.get("predictor", {})
    if not isinstance(predictor, dict):
        raise ValueError(f"{path}: 'predictor' must be a JSON object, got {type(predictor).__name__}")
    config["predictor"] = _check_predictor_config(predictor, source=str(path))
    unknown = sorted(set(config) - {"format_version", "ntclick_version", "ecp", "hrr", "predictor"})
    if unknown:
        raise ValueError(f"{path}: unknown top-level entries {unknown}")
    return config


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        with open(path, "rb") as f:
            head = f.read(2)
        hint = (
            " (it looks like a pickled PyTorch/zip file: only safetensors are loaded)"
            if head in (b"PK", b"\x80\x02")
            else ""
        )
        raise ValueError(f"{path}: not a valid safetensors file{hint}: {exc}") from None


def _load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, path: Path) -> None:
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} tensor(s): {_show([prefix + k for k in missing])}")
    if unexpected:
        problems.append(f"unexpected {len(unexpected)} tensor(s): {_show([prefix + k for k in unexpected])}")
    mismatched = [
        f"{prefix}{k} has shape {tuple(tensors[k].shape)}, the {prefix[:-1].upper()} config needs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    if mismatched:
        problems.append(f"{len(mismatched)} shape mismatch(es): {_show(mismatched)}")
    if problems:
        raise ValueError(f"{path}: weights do not match config.json: " + "; ".join(problems))
    module.load_state_dict(tensors, strict=True)


def _show(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def load_pretrained(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
) -> tuple[ECP, HRR, dict[str, Any]]:
    """Load ECP and HRR from a weights folder or Hub repo (see :func:`resolve_files`).

    Returns ``(ecp, hrr, predictor_settings)``: both networks in eval mode on ``device``
    (default CPU) in ``dtype`` (default float32), and the ``"predictor"`` entry of
    ``config.json`` with defaults filled in.

    Raises:
        FileNotFoundError: the weights cannot be found (see :func:`resolve_files`).
        ValueError: a file is invalid: bad JSON, a newer ``format_version``, unknown config
            keys, not safetensors, missing/unexpected tensors or shape mismatches.  The
            message starts with the file's path.
    """
    from ntclick.modeling import build_ecp, build_hrr

    dev = parse_device(device)
    dt = parse_dtype(dtype)
    config_path, weights_path = resolve_files(
        name_or_path, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token
    )
    config = read_config(config_path)
    try:
        ecp = build_ecp(config["ecp"])
        hrr = build_hrr(config["hrr"])
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"{config_path}: invalid network config: {exc}") from None

    tensors = _read_tensors(weights_path)
    bad = sorted(k for k in tensors if not k.startswith(_PREFIXES))
    if bad:
        raise ValueError(
            f"{weights_path}: weights do not match config.json: unexpected {len(bad)} tensor(s) "
            f"outside 'ecp.'/'hrr.': {_show(bad)}"
        )
    for prefix, module in (("ecp.", ecp), ("hrr.", hrr)):
        part = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        _load_into(module, part, prefix, weights_path)
    del tensors
    ecp = ecp.to(device=dev, dtype=dt).eval()
    hrr = hrr.to(device=dev, dtype=dt).eval()
    return ecp, hrr, config["predictor"]
