#!/usr/bin/env bash
# GPU training-step benchmark, one command, ~3-5 minutes on one H100/H200:
#   YOLOv5s, 640, batch 64, fp16 AMP, channels-last, synthetic batch on the device:
#   ours dense / masks held (75 %) / QAT images/s + peak memory (bench/gpu_step.py = engine/loop.py's step),
#   and in the same call the reference trainer's step (../shared/peer/peer_step.py, pip yolov5==7.0.14)
#   as its train.py runs it, with channels-last, and channels-last without EMA.
#
#   bench/gpu.sh [PEER_DIR]            # run (PEER_DIR or $RECIPEC_PEER; default ../shared/peer, then .whl/peer)
#   bench/gpu.sh fetch [PEER_DIR]      # where pip works: download the peer's wheels + copy peer_step.py into
#                                      # .whl/peer/ (git-ignored; carry it to a machine without network)
# Env: STEPS (30), WARMUP (10), BATCH (64), IMGSZ (640), DEVICE (cuda:0), COMPILE=1 adds a torch.compile run of
# ours (slow to compile), OUT (default runs/gpu_bench) gets results.jsonl and summary.txt.
# The peer's code is never part of this repository: it is run from where it lies.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
if [ "${1:-}" = fetch ]; then
    PEER=${2:-${RECIPEC_PEER:-$REPO/../shared/peer}}
    mkdir -p .whl/peer/whl
    python3 -m pip download -q --no-deps -d .whl/peer/whl yolov5==7.0.14 ultralytics==8.4.190 \
        thop==0.1.1.post2209072238 gitpython==3.2.1 gitdb==4.0.12 smmap==5.0.3 setuptools==80.10.2 || exit 1
    cp "$PEER/peer_step.py" .whl/peer/ && echo "ready: .whl/peer (carry it with the checkout)"
    exit 0
fi
PEER=${1:-${RECIPEC_PEER:-}}
if [ -z "$PEER" ]; then
    for d in "$REPO/../shared/peer" "$REPO/.whl/peer"; do [ -f "$d/peer_step.py" ] && PEER=$d && break; done
fi
STEPS=${STEPS:-30}; WARMUP=${WARMUP:-10}; BATCH=${BATCH:-64}; IMGSZ=${IMGSZ:-640}; DEVICE=${DEVICE:-cuda:0}
OUT=${OUT:-$REPO/runs/gpu_bench}
mkdir -p "$OUT"; RES=$OUT/results.jsonl; : > "$RES"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"
COMMON=(--cfg yolov5s --batch "$BATCH" --imgsz "$IMGSZ" --steps "$STEPS" --warmup "$WARMUP" --device "$DEVICE"
        --out "$RES")
ours() { timeout 300 python3 bench/gpu_step.py "${COMMON[@]}" "$@" > /dev/null || echo "ours $* failed" >&2; }

# --- ours (the loop's step: AMP fp16 + GradScaler, EMA on, masks/QAT hooks as in training)
ours --mode dense --amp --channels-last --tag "ours dense amp cl ema"
ours --mode masks --amp --channels-last --tag "ours masks75 amp cl ema"
ours --mode qat --amp --channels-last --tag "ours qat cl (loop: no amp, no ema)"
ours --mode dense --amp --channels-last --no-loop-syncs --tag "ours dense amp cl ema, no host reads"
ours --mode dense --amp --tag "ours dense amp nchw ema"
[ "${COMPILE:-0}" = 1 ] && ours --mode dense --amp --channels-last --compile --tag "ours dense amp cl ema compile"

# --- the peer, same call, same GPU
if [ -n "$PEER" ] && [ -f "$PEER/peer_step.py" ]; then
    SITE=${TMPDIR:-/tmp}/peer_site
    if ! PYTHONPATH=$SITE python3 -c "import yolov5" 2>/dev/null; then
        WHL=$PEER/whl; [ -d "$WHL" ] || WHL=$REPO/.whl/peer/whl
        if [ -d "$WHL" ]; then
            python3 -m pip install -q --no-index --no-deps --target "$SITE" "$WHL"/*.whl
        else
            python3 -m pip install -q --no-deps --target "$SITE" yolov5==7.0.14 ultralytics==8.4.190 \
                thop==0.1.1.post2209072238 gitpython==3.2.1 gitdb==4.0.12 smmap==5.0.3 setuptools==80.10.2 \
                || echo "peer wheels unavailable (no network? run 'bench/gpu.sh fetch' where pip works)" >&2
        fi
    fi
    peer() {
        env PYTHONPATH="$SITE" YOLO_OFFLINE=1 HF_HUB_OFFLINE=1 ULTRALYTICS_SKIP_REQUIREMENTS_CHECKS=1 \
            timeout 300 python3 "$PEER/peer_step.py" --model yolov5s --batch "$BATCH" --imgsz "$IMGSZ" \
            --steps "$STEPS" --warmup "$WARMUP" --device "$DEVICE" --amp --out "$RES" "$@" > /dev/null \
            || echo "peer $* failed" >&2
    }
    peer --deterministic --tag "peer as train.py (amp nchw ema det)"
    peer --channels-last --tag "peer amp cl ema"
    peer --channels-last --no-ema --tag "peer amp cl no-ema"
else
    echo "peer not found (give PEER_DIR, set RECIPEC_PEER, or run 'bench/gpu.sh fetch'): ours only" >&2
fi

python3 - "$RES" <<'EOF' | tee "$OUT/summary.txt"
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = [r for r in rows if r.get("ok")]
print(f"{'run':<44}{'img/s':>9}{'ms/step':>9}{'peak GiB':>10}")
for r in rows:
    if r.get("ok"):
        print(f"{r['tag']:<44}{r['images_per_s']:>9.1f}{r['ms_per_step']:>9.1f}{r['max_mem_alloc_gib'] or 0:>10.2f}")
    else:
        print(f"{r.get('tag', '?'):<44} FAILED {r.get('error', '')[:60]}")
by = {r["tag"]: r["images_per_s"] for r in ok}
d = by.get("ours dense amp cl ema")
if d:
    for k, goal in (("ours masks75 amp cl ema", "<= 1.03"), ("ours qat cl (loop: no amp, no ema)", "<= 1.30")):
        if k in by:
            print(f"step ratio {k.split()[1]}/dense: {d / by[k]:.3f}x (goal {goal})")
    peers = {k: v for k, v in by.items() if k.startswith("peer")}
    if peers:
        best = max(peers, key=peers.get)
        print(f"ours dense / fastest peer ({best}): {d / peers[best]:.3f}x (goal >= 1.0)")
        pe = by.get("peer amp cl ema")
        if pe:
            print(f"ours dense / peer amp cl ema (EMA on both): {d / pe:.3f}x")
EOF
