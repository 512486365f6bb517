#!/usr/bin/env bash
# Train one ECP on a lent GPU within a fixed time; the bundled HRR and settings complete the weights.
#
#   bash docs/scripts/train_ecp_on_lent_gpu.sh SECONDS OUT
#
# The bundled ECP's recipe (ResNet-18 body, GrabCut prior, confusion term, 256 px; from scratch)
# at batch 32 in bf16, configs/ecp_resnet18_gpu_prior_confusion.json, with the prior's GrabCut
# on a 128 px copy
# (prior_size): the prior runs on the CPU for every sample and every simulated click, and at
# 256 px it would set the pace.  A 30-step probe measures steps/s and `steps` is sized so that
# the whole cosine schedule fits the time left; --max-minutes stops it regardless.  Then the
# ECP is exported with weights/ntclick-tiny's HRR and the stored settings (ecp_size 256, zoom-in,
# no HRR, band step), fp16, split into < 16 MiB parts (the device tool brings back files of at
# most 16 MiB; `cat OUT/model.safetensors.part* > model.safetensors` joins them).
# Data: $NTCLICK_DATA/BSDS500-train (docs/scripts/pack_training_data.py makes a pack that
# travels).  ECP_SET adds `--set k=v` overrides to both runs (a CPU dry run: see training.md).
set -euo pipefail
BUDGET=$1; OUT=$2
START=$(date +%s)
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
CONFIG=${CONFIG:-configs/ecp_resnet18_gpu_prior_confusion.json}
read -r -a EXTRA <<< "${ECP_SET:-}"
mkdir -p runs "$OUT"
rm -rf runs/probe_ecp runs/gpu_ecp runs/gpu_ecp_weights
$PY -m ntclick train ecp --config "$CONFIG" "${EXTRA[@]}" --set steps=30 --set warmup_steps=5 --set log_every=10 \
    --out runs/probe_ecp --quiet
BATCH=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['batch_size'])" runs/probe_ecp/config.json)
source "$(dirname "$0")/lent_gpu_common.sh"
RATE=$(rate runs/probe_ecp/metrics.jsonl "$BATCH")
LEFT=$(( BUDGET - ($(date +%s) - START) - 60 ))
STEPS=$($PY -c "print(max(50, int($RATE * $LEFT * 0.92)))")
MAXMIN=$($PY -c "print(max(1, $LEFT + 10) / 60)")
echo "probe: $RATE steps/s at batch $BATCH; $LEFT s left -> $STEPS steps"
$PY -m ntclick train ecp --config "$CONFIG" "${EXTRA[@]}" --set steps="$STEPS" --max-minutes "$MAXMIN" \
    --out runs/gpu_ecp --quiet > "$OUT/ecp.log" 2>&1
$PY -m ntclick export --ecp runs/gpu_ecp/checkpoint_last.pt --hrr weights/ntclick-tiny --out runs/gpu_ecp_weights \
    --dtype float16 --setting ecp_size=256 --setting zoom_in=true --setting refine=false --setting grabcut_iterations=3
cp runs/gpu_ecp_weights/config.json "$OUT/config.json"
split -b 15M -d runs/gpu_ecp_weights/model.safetensors "$OUT/model.safetensors.part"
cp runs/gpu_ecp/metrics.jsonl "$OUT/ecp_metrics.jsonl"
echo "done in $(( $(date +%s) - START )) s"
