# Shared by the lent-GPU training scripts (sourced, not run); needs $PY.
rate() {  # steps/s of a probe run's last logged interval: rate METRICS BATCH
  $PY -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if '\"train\"' in l][-1]; print(r['samples_per_s']/int(sys.argv[2]))" "$1" "$2"
}
