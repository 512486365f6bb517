"""Where are the errors?  Replays the shipped run's recorded clicks (fifth round, BSDS val) on
the objects that never reach 90% IoU and splits the wrong pixels by the FBU class ECP gave them.

Run from the repository root:
    python benchmarks/results/seventh_round/prototype/errors_by_fbu.py 5,10,20
"""

import json
import sys

from ntclick import NTClickPredictor
from ntclick.clicks import Click, ClickKind
from ntclick.eval import open_dataset, read_jsonl
from ntclick.fbu import BG, FG, UNCERTAIN

RUN = "benchmarks/results/fifth_round/ntclick-tiny-gc3_folder_standard.jsonl.gz"
records = {r.name: json.loads(r.to_json()) for r in read_jsonl(RUN)}
predictor = NTClickPredictor.from_pretrained("weights/ntclick-tiny")
at = [int(a) for a in sys.argv[1].split(",")]
totals: dict = {}
for item in open_dataset("folder", "data/bsds_val"):
    record = records[item.name]
    if max(record["ious"]) >= 0.9:
        continue
    sample = item.load()
    predictor.set_image(sample.image)
    clicks = [Click(c["x"], c["y"], ClickKind(c["kind"])) for c in record["clicks"]]
    for k in at:
        if k > len(clicks):
            continue
        prediction = predictor.predict(clicks[:k])
        mask, fbu = prediction.soft > 0.49, prediction.fbu
        wrong = (mask != sample.gt) & ~sample.ignore
        missed, extra = wrong & sample.gt, wrong & ~sample.gt
        row = {
            "fn_in_certain_bg": int((missed & (fbu == BG)).sum()),
            "fn_in_band": int((missed & (fbu == UNCERTAIN)).sum()),
            "fp_in_certain_fg": int((extra & (fbu == FG)).sum()),
            "fp_in_band": int((extra & (fbu == UNCERTAIN)).sum()),
            "gt": int(sample.gt.sum()),
            "band": int((fbu == UNCERTAIN).sum()),
        }
        print(item.name, k, round(record["ious"][k - 1], 3), row)
        for key, value in row.items():
            totals[f"{k}:{key}"] = totals.get(f"{k}:{key}", 0) + value
print(totals)
