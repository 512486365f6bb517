"""A weighted mean of ECP weights (a "model soup"), written as an ECP training checkpoint.

Each source is an ECP training checkpoint (``.pt`` of ``ntclick train ecp``) or a weights folder
(its ECP); all must have the same tensors (same config).  The mean is taken in float32, every
tensor, BatchNorm's running statistics included, and cast back to the first checkpoint's
dtypes.  The output is that checkpoint with its ``model`` replaced, so ``ntclick export --ecp``
takes it as it is:

    python benchmarks/average_ecp.py --out runs/soup.pt \\
        --ecp runs/ecp_conf_scratch/checkpoint_best.pt --ecp runs/w_old [--weight 1 --weight 1]
    ntclick export --ecp runs/soup.pt --hrr weights/ntclick-tiny --out runs/w_soup --dtype float16

The first ``--ecp`` must be a ``.pt`` checkpoint (its config and layout are kept).  Written
atomically.  Twelfth round (docs/benchmarks.md); selects nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def ecp_state(source: str | Path) -> dict:
    """The ECP state dict of a training checkpoint (.pt) or a weights folder."""
    from ntclick.train.checkpoint import load_network

    return load_network(str(source), "ecp").state_dict()


def average(states: list[dict], weights: list[float]) -> dict:
    """The weighted mean of same-keyed state dicts in float32, cast back to the first's dtypes."""
    if len(states) != len(weights) or not states:
        raise ValueError(f"{len(states)} sources but {len(weights)} weights")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be >= 0 with a positive sum, got {weights}")
    keys = set(states[0])
    for i, state in enumerate(states[1:], start=2):
        if set(state) != keys:
            diff = sorted(keys ^ set(state))[:5]
            raise ValueError(
                f"ECP source {i} has other tensors than the first (e.g. {diff}): not the same config"
            )
        for k in keys:
            if state[k].shape != states[0][k].shape:
                raise ValueError(
                    f"ECP source {i}: {k} has shape {tuple(state[k].shape)}, the first {tuple(states[0][k].shape)}"
                )
    total = float(sum(weights))
    out = {}
    for k in states[0]:
        mean = sum(s[k].float() * (w / total) for s, w in zip(states, weights, strict=True))
        # Integer tensors (BatchNorm's batch counters) are rounded, not truncated.
        out[k] = (mean if states[0][k].is_floating_point() else mean.round()).to(states[0][k].dtype)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ecp", action="append", required=True, help="a .pt checkpoint or a weights folder; repeat"
    )
    parser.add_argument("--weight", action="append", type=float, help="one per --ecp (default: equal)")
    parser.add_argument("--out", required=True, help="output .pt")
    args = parser.parse_args(argv)
    if len(args.ecp) < 2:
        parser.error("give at least two --ecp")
    first = Path(args.ecp[0])
    if not first.is_file():
        parser.error(f"the first --ecp must be a training checkpoint (.pt), got {first}")
    weights = args.weight or [1.0] * len(args.ecp)

    from ntclick.train.checkpoint import load_checkpoint, save_checkpoint

    base = load_checkpoint(first, "ecp")  # refuses anything but an ECP training checkpoint
    base["model"] = average([ecp_state(s) for s in args.ecp], weights)
    save_checkpoint(args.out, base)  # atomic
    print(f"wrote {args.out}: mean of {len(args.ecp)} ECPs, weights {weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
