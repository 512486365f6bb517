"""Several ECPs (and/or a mirrored input) averaged at inference, measured on the BSDS val folder.

Sixteenth round (docs/benchmarks.md).  Every ECP trained here started from scratch on the same
401 BSDS images; their errors differ from run to run (recipes, checkpoints), so averaging their
class probabilities is the classic way to buy accuracy with inference time instead of training
compute.  The wrapper stands in for the predictor's ``ecp`` (same call, same config: the first
member's, whose prior settings build the click maps), from outside the package:

    python benchmarks/ecp_ensemble.py --label ens3 --member weights/ntclick-tiny --member runs/w_c1 \\
        --member runs/w_old --out benchmarks/results/sixteenth_round/val
    python benchmarks/ecp_ensemble.py --label flip --member weights/ntclick-tiny --flip

Each ``--member`` is a weights folder or an ECP training checkpoint (.pt); all must take the
same click channels, and the first one's ``size_multiple`` (16 for the ViT, 32 for a CNN) must be
a multiple of the others' (put a CNN first).  ``--flip`` adds every member's prediction on the left-right mirrored
input (image and click maps), flipped back.  The predictor's other settings are those stored
with ``--weights``.  Writes ``<out>/<label>_<dataset>_<protocol>.jsonl`` (resumable, like
``ntclick eval``) and prints a one-line summary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))


class AveragedECP(nn.Module):
    """The mean class probability of ``members`` (each maps ``(image, maps)`` to logits
    (B, 3, H, W)), returned as log-probabilities so that argmax and softmax downstream see the
    mean; with ``flip`` each member also sees the mirrored input."""

    def __init__(self, members: list[nn.Module], flip: bool = False):
        super().__init__()
        if not members:
            raise ValueError("AveragedECP needs at least one member")
        channels = {int(m.config.click_channels) for m in members}
        if len(channels) != 1:
            raise ValueError(f"members take different numbers of click channels: {sorted(channels)}")
        first = int(members[0].config.size_multiple)
        if any(first % int(m.config.size_multiple) for m in members):
            raise ValueError(
                "the first member pads the input for all: put first the member whose size_multiple "
                f"the others divide (got {[int(m.config.size_multiple) for m in members]})"
            )
        self.members = nn.ModuleList(members)
        self.flip = flip
        self.config = members[0].config

    def forward(self, image: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        probs = []
        for m in self.members:
            probs.append(m(image, maps).float().softmax(dim=1))
            if self.flip:
                probs.append(m(image.flip(-1), maps.flip(-1)).float().softmax(dim=1).flip(-1))
        return torch.stack(probs).mean(dim=0).clamp_min(1e-8).log()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny", help="settings and HRR")
    parser.add_argument("--member", action="append", required=True, help="ECP source; repeat")
    parser.add_argument("--flip", action="store_true", help="add the mirrored input")
    parser.add_argument("--label", required=True)
    parser.add_argument("--dataset", default="folder=data/bsds_val", help="NAME or NAME=PATH")
    parser.add_argument("--protocol", choices=("standard", "nt"), default="standard")
    parser.add_argument("--target-iou", type=float, default=0.9)
    parser.add_argument("--out", default="benchmarks/results/sixteenth_round/val")
    args = parser.parse_args(argv)

    from band_variants import run_variant

    from ntclick import NTClickPredictor
    from ntclick.train.checkpoint import load_network

    predictor = NTClickPredictor.from_pretrained(args.weights)
    members = [load_network(str(m), "ecp").float().eval() for m in args.member]
    predictor.ecp = AveragedECP(members, flip=args.flip).to(predictor.device, predictor.dtype).eval()
    run_variant(predictor, args.label, args.dataset, args.target_iou, args.out, args.protocol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
