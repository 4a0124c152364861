#!/usr/bin/env bash
# CPU comparison: `recipec train` vs the reference trainer (pip yolov5==7.0.14, its train.main), back to back.
#
#   bench/reference_cpu.sh [REPEATS=3] [EPOCHS=1]
#
# Same model (../shared/external/weights/yolov5n.pt), data (coco128, train = val), imgsz 320, batch 16,
# 2 loader workers, hyp.scratch-low defaults, CPU. Runs are interleaved (ref, ours, [ours on the ref's torch])
# REPEATS times so machine load drifts hit both alike; `uptime` is logged before every run.
# What is measured, for both: wall seconds from the epoch's start (before the loader is iterated) to the end
# of its last optimizer step, divided into the images of the epoch (validation excluded). Ours:
# bench/ours_train_timer.py (engine.train.train, the span of the loop's own "epoch k: X img/s" line, full
# precision); the reference: bench/reference_train_timer.py (its train.main with timing callbacks).
# Also the whole process wall time (model load, data scan, every validation, checkpoints) of each run.
#
# The reference lives ONLY in a throwaway venv outside the repo (never a project dependency):
#   python3 -m venv /tmp/refvenv
#   /tmp/refvenv/bin/pip install torch==2.14.1 torchvision==0.29.1      # from this machine's disk
#   /tmp/refvenv/bin/pip install --no-deps yolov5==7.0.14 ultralytics==8.4.190 thop==0.1.1.post2209072238 \
#       gitpython==3.2.1 gitdb==4.0.12 smmap==5.0.3
#   /tmp/refvenv/bin/pip install opencv-python-headless pandas seaborn tqdm psutil scipy requests pyyaml \
#       pillow matplotlib setuptools==80.10.2 roboflow 'huggingface-hub>=0.12,<0.25' fire tensorboard
#   /tmp/refvenv/bin/pip install lark typer rich       # only for OURS_ON_REF_TORCH=1 (ours on the same torch)
# Env: REF_PYTHON (default /tmp/refvenv/bin/python), OUR_PYTHON (default python3), OURS_ON_REF_TORCH=1 adds a
# third run per repeat: recipec train under the reference venv's torch, to separate torch-build effects.
# QUIET_WAIT=S: before each run wait up to S seconds (default 0) until other processes use < 0.3 cores (sampled
# from /proc/stat over 2 s); the sample is logged beside the load average either way. OURS_TRAIN_ONLY=1: our
# runs stop right after the timed epochs (no validation / checkpoints; their process time is then start-up +
# training only). Ours picks its torch threads as `recipec train` does (the log line is copied to load.log).
# Results: $OUT (default /tmp/recipec_refcmp)/summary.json and a printed table.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${RECIPEC_SHARED:-$REPO/../shared}
REF_PYTHON=${REF_PYTHON:-/tmp/refvenv/bin/python}
OUR_PYTHON=${OUR_PYTHON:-python3}
REPEATS=${1:-3}
EPOCHS=${2:-1}
OUT=${OUT:-/tmp/recipec_refcmp}
WEIGHTS=$SHARED/external/weights/yolov5n.pt
COCO=$SHARED/external/coco128
[ -f "$WEIGHTS" ] && [ -d "$COCO/images/train2017" ] || { echo "error: need $WEIGHTS and $COCO" >&2; exit 2; }
[ -x "$REF_PYTHON" ] || { echo "error: reference venv python $REF_PYTHON not found (see the header)" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"
NAMES=$("$OUR_PYTHON" -c "print(', '.join(f'c{i}' for i in range(80)))")
printf 'path: %s\ntrain: images/train2017\nval: images/train2017\nnc: 80\nnames: [%s]\n' "$COCO" "$NAMES" \
    > "$OUT/coco128.yaml"
COMMON=(--imgsz 320 --batch 16 --workers 2)

busy_cores() {  # cores' worth of CPU all processes used over 2 s (this shell sleeps meanwhile)
    local a b
    a=$(head -1 /proc/stat 2>/dev/null) || { echo "?"; return; }
    sleep 2
    b=$(head -1 /proc/stat)
    echo "$a|$b" | awk -v n="$(nproc)" -F'|' '{split($1,x," "); split($2,y," "); bt=0; tt=0;
        for (i=2;i<=9;i++) { d=y[i]-x[i]; tt+=d; if (i!=5 && i!=6) bt+=d } printf "%.2f", (tt ? bt/tt*n : 0)}'
}

wait_quiet() {
    local t0=$(date +%s) b
    while :; do
        b=$(busy_cores)
        if [ "$b" = "?" ] || awk "BEGIN{exit !($b < 0.3)}" || [ $(( $(date +%s) - t0 )) -ge "${QUIET_WAIT:-0}" ]; then
            echo "$b"; return
        fi
    done
}

run_timed() {  # name logfile cmd...
    local name=$1 log=$2; shift 2
    local busy=$(wait_quiet)
    echo "$name load: $(uptime | sed 's/.*load average: //'), busy cores before: $busy" | tee -a "$OUT/load.log"
    local t0=$(date +%s.%N)
    "$@" > "$log" 2>&1 || echo "$name FAILED (see $log)" | tee -a "$OUT/load.log"
    echo "$name wall_s $(echo "$(date +%s.%N) - $t0" | bc)" | tee -a "$OUT/load.log"
    grep -m1 "torch threads" "$log" | sed "s/^/$name /" | tee -a "$OUT/load.log" || true
}
OURS_EXTRA=()
[ "${OURS_TRAIN_ONLY:-0}" = 1 ] && OURS_EXTRA=(--train-only)

for r in $(seq 1 "$REPEATS"); do
    run_timed "ref_$r" "$OUT/ref_$r.log" env TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 "$REF_PYTHON" \
        "$REPO/bench/reference_train_timer.py" --data "$OUT/coco128.yaml" --weights "$WEIGHTS" \
        --epochs "$EPOCHS" "${COMMON[@]}" --project "$OUT/ref_runs"
    run_timed "ours_$r" "$OUT/ours_$r.log" "$OUR_PYTHON" "$REPO/bench/ours_train_timer.py" \
        --data "$OUT/coco128.yaml" --weights "$WEIGHTS" --epochs "$EPOCHS" "${COMMON[@]}" \
        --project "$OUT/ours_runs" "${OURS_EXTRA[@]}"
    if [ "${OURS_ON_REF_TORCH:-0}" = 1 ]; then
        run_timed "oursreftorch_$r" "$OUT/oursreftorch_$r.log" "$REF_PYTHON" "$REPO/bench/ours_train_timer.py" \
            --data "$OUT/coco128.yaml" --weights "$WEIGHTS" --epochs "$EPOCHS" "${COMMON[@]}" \
            --project "$OUT/oursreftorch_runs" "${OURS_EXTRA[@]}"
    fi
done

"$OUR_PYTHON" - "$OUT" <<'EOF'
import json, re, statistics, sys
from pathlib import Path

out = Path(sys.argv[1])
walls = dict(re.findall(r"^(\S+) wall_s ([0-9.]+)$", (out / "load.log").read_text(), re.M))
loads = dict(re.findall(r"^(\S+) load: (.*)$", (out / "load.log").read_text(), re.M))
threads = dict(re.findall(r"^(\S+) torch threads: (\d+)", (out / "load.log").read_text(), re.M))
runs = {}
for log in sorted(out.glob("*_*.log")):
    name, text = log.stem, log.read_text(errors="replace")
    m = [l for l in text.splitlines() if l.startswith('{"trainer"')]
    eps = ([e["images_per_s"] for e in json.loads(m[-1])["epochs"]] if m else  # else: rows printed at EpochEnd
           [json.loads(l[len("timer epoch "):])["images_per_s"] for l in text.splitlines()
            if l.startswith("timer epoch ")])
    runs[name] = {"epoch_images_per_s": eps, "wall_s": float(walls.get(name, "nan")), "load": loads.get(name),
                  "threads": int(threads[name]) if name in threads else None}
summary = {"runs": runs}
for kind in ("ref", "ours", "oursreftorch"):
    eps = [e for n, r in runs.items() if n.split("_")[0] == kind for e in r["epoch_images_per_s"]]
    ws = [r["wall_s"] for n, r in runs.items() if n.split("_")[0] == kind]
    if eps:
        summary[kind] = {"median_epoch_images_per_s": statistics.median(eps), "n_epochs": len(eps),
                         "best_epoch_images_per_s": max(eps), "median_wall_s": statistics.median(ws)}
for kind in ("ours", "oursreftorch"):
    if kind in summary and "ref" in summary:
        summary[kind]["ratio_to_ref"] = (summary[kind]["median_epoch_images_per_s"]
                                         / summary["ref"]["median_epoch_images_per_s"])
        summary[kind]["best_ratio_to_ref"] = (summary[kind]["best_epoch_images_per_s"]
                                              / summary["ref"]["best_epoch_images_per_s"])
        summary[kind]["wall_ratio_ref_over_ours"] = summary["ref"]["median_wall_s"] / summary[kind]["median_wall_s"]
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
for n, r in runs.items():
    print(f"{n:<18} epochs img/s {', '.join(f'{e:.2f}' for e in r['epoch_images_per_s']) or '-':<24}"
          f" process {r['wall_s']:.0f} s   load {r['load']}"
          + (f"   threads {r['threads']}" if r["threads"] else ""))
for kind in ("ref", "ours", "oursreftorch"):
    if kind in summary:
        s = summary[kind]
        print(f"{kind:<18} median epoch {s['median_epoch_images_per_s']:.3f} img/s over {s['n_epochs']} epochs, "
              f"median process {s['median_wall_s']:.0f} s"
              + (f", ratio to ref {s['ratio_to_ref']:.2f}x (best epochs {s['best_ratio_to_ref']:.2f}x, "
                 f"process {s['wall_ratio_ref_over_ours']:.2f}x)"
                 if "ratio_to_ref" in s else ""))
print(f"wrote {out / 'summary.json'}")
EOF
