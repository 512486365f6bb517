#!/usr/bin/env bash
# Train ECP-tiny and HRR-tiny side by side on one GPU within a fixed time (a lent machine).
#
#   bash docs/scripts/train_on_lent_gpu.sh STAGE SECONDS OUT
#
# STAGE 1: both networks from scratch (configs/ecp_tiny_gpu.json, configs/hrr_tiny_gpu.json).
# STAGE 2: both continue from stage 1's checkpoints (runs/gpu1_*) with a new, lower schedule;
#          HRR then takes half of its input FBU maps from stage 1's ECP.
# A 45-step probe of both runs measures steps/s, and each run's `steps` is set so that its
# whole learning-rate schedule fits the time left (minus a margin for start-up and export);
# --max-minutes stops it regardless.  Exports fp16 weights to OUT (split into < 16 MiB parts
# when OUT_SPLIT=1) and copies the metrics.  Data: $NTCLICK_DATA/BSDS500-train.
set -euo pipefail
STAGE=$1; BUDGET=$2; OUT=$3
START=$(date +%s)
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
mkdir -p runs "$OUT"
if [ "$STAGE" = 1 ]; then
  ECP_ARGS=(--config configs/ecp_tiny_gpu.json); HRR_ARGS=(--config configs/hrr_tiny_gpu.json)
else
  ECP_ARGS=(--config configs/ecp_tiny_gpu.json --set init=runs/gpu1_ecp/checkpoint_last.pt --set lr=2e-4 --set warmup_steps=50 --set max_extra_clicks=6 --set seed=1)
  HRR_ARGS=(--config configs/hrr_tiny_gpu.json --set init=runs/gpu1_hrr/checkpoint_last.pt --set lr=2e-4 --set warmup_steps=50 --set seed=1
            --set fbu_from_ecp=runs/gpu1_ecp/checkpoint_last.pt --set fbu_from_ecp_prob=0.5)
fi
rm -rf runs/probe_ecp runs/probe_hrr
$PY -m ntclick train ecp "${ECP_ARGS[@]}" --set steps=45 --set warmup_steps=5 --set log_every=15 --out runs/probe_ecp --quiet &
$PY -m ntclick train hrr "${HRR_ARGS[@]}" --set steps=45 --set warmup_steps=5 --set log_every=15 --out runs/probe_hrr --quiet &
wait
source "$(dirname "$0")/lent_gpu_common.sh"
ECP_RATE=$(rate runs/probe_ecp/metrics.jsonl 32); HRR_RATE=$(rate runs/probe_hrr/metrics.jsonl 16)
LEFT=$(( BUDGET - ($(date +%s) - START) - 75 ))
ECP_STEPS=$($PY -c "print(max(100, int($ECP_RATE * $LEFT * 0.92)))")
HRR_STEPS=$($PY -c "print(max(100, int($HRR_RATE * $LEFT * 0.92)))")
echo "probe: ecp $ECP_RATE steps/s, hrr $HRR_RATE steps/s; $LEFT s left -> ecp $ECP_STEPS, hrr $HRR_STEPS steps"
MAXMIN=$($PY -c "print(($LEFT + 10) / 60)")
rm -rf "runs/gpu${STAGE}_ecp" "runs/gpu${STAGE}_hrr"
$PY -m ntclick train ecp "${ECP_ARGS[@]}" --set steps=$ECP_STEPS --max-minutes "$MAXMIN" --out "runs/gpu${STAGE}_ecp" --quiet > "$OUT/ecp.log" 2>&1 &
$PY -m ntclick train hrr "${HRR_ARGS[@]}" --set steps=$HRR_STEPS --max-minutes "$MAXMIN" --out "runs/gpu${STAGE}_hrr" --quiet > "$OUT/hrr.log" 2>&1 &
wait
$PY -m ntclick export --ecp "runs/gpu${STAGE}_ecp/checkpoint_last.pt" --hrr "runs/gpu${STAGE}_hrr/checkpoint_last.pt" \
    --out "runs/gpu${STAGE}_weights" --dtype float16
cp "runs/gpu${STAGE}_weights/config.json" "$OUT/config.json"
if [ "${OUT_SPLIT:-0}" = 1 ]; then
  split -b 15M -d "runs/gpu${STAGE}_weights/model.safetensors" "$OUT/model.safetensors.part"
else
  cp "runs/gpu${STAGE}_weights/model.safetensors" "$OUT/"
fi
cp "runs/gpu${STAGE}_ecp/metrics.jsonl" "$OUT/ecp_metrics.jsonl"
cp "runs/gpu${STAGE}_hrr/metrics.jsonl" "$OUT/hrr_metrics.jsonl"
echo "done in $(( $(date +%s) - START )) s"
