#!/usr/bin/env bash
# Validation end to end: `recipec val` vs the reference's val.py (pip yolov5==7.0.14), interleaved.
#
#   bench/reference_val.sh [ROUNDS=3]
#
# Same model (../shared/external/weights/yolov5n.pt), data (coco128, val = train2017, the class names of
# ../shared/external/configs/coco128.yaml), imgsz 640, batch 32 (val.py's default), 2 loader workers, CPU,
# conf 0.001 / IoU 0.6 / 300 detections (both tools' defaults), no plots (the reference's val-batch plots
# need Pillow < 10: `FreeTypeFont.getsize`). Each round runs the reference, then recipec; `uptime` is logged
# before every run. Measured: the whole process's wall time (start-up, model load, data scan, validation, the
# printed table), each tool's mAP50 / mAP50-95 and its own per-image speed line (pre-process / inference /
# NMS ms). The reference's NMS gives up on a batch after 0.5 + 0.05 x batch seconds (a warning; the batch's
# remaining images get no boxes, so its mAP drops): on a loaded CPU that happens, and the summary counts it.
#
# The reference lives ONLY in a throwaway venv outside the repo (never a project dependency): make it as the
# header of bench/reference_cpu.sh says (/tmp/refvenv). It runs offline: the YOLO*/HF offline variables and a
# local font (bench/reference_train_timer.py's `_offline_font`), the local weights file, a data YAML with no
# download key.
# Env: REF_PYTHON (default /tmp/refvenv/bin/python), OUR_PYTHON (default python3), OUT (default
# /tmp/recipec_refval). Results: $OUT/summary.json and a printed table.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${RECIPEC_SHARED:-$REPO/../shared}
REF_PYTHON=${REF_PYTHON:-/tmp/refvenv/bin/python}
OUR_PYTHON=${OUR_PYTHON:-python3}
ROUNDS=${1:-3}
OUT=${OUT:-/tmp/recipec_refval}
WEIGHTS=$SHARED/external/weights/yolov5n.pt
COCO=$SHARED/external/coco128
NAMES_YAML=$SHARED/external/configs/coco128.yaml
for f in "$WEIGHTS" "$NAMES_YAML" "$COCO/images/train2017"; do
    [ -e "$f" ] || { echo "error: need $f" >&2; exit 2; }
done
[ -x "$REF_PYTHON" ] || { echo "error: reference venv python $REF_PYTHON not found (see bench/reference_cpu.sh)" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"
sed -e "s#^path:.*#path: $COCO#" -e '/^download:/d' "$NAMES_YAML" > "$OUT/coco128.yaml"
COMMON=(--weights "$WEIGHTS" --data "$OUT/coco128.yaml" --imgsz 640 --batch-size 32 --workers 2 --device cpu)

run_timed() {  # name logfile cmd... (stdout to logfile, stderr to logfile.err)
    local name=$1 log=$2; shift 2
    echo "$name load: $(uptime | sed 's/.*load average: //')" | tee -a "$OUT/load.log"
    local t0=$(date +%s.%N)
    "$@" > "$log" 2> "$log.err" || echo "$name FAILED (see $log.err)" | tee -a "$OUT/load.log"
    echo "$name wall_s $(echo "$(date +%s.%N) - $t0" | bc)" | tee -a "$OUT/load.log"
}

# val.py's own main() minus its requirements check (which would pip-install): parse_opt, then run. numpy 2.4
# removed np.trapz, which the reference's AP integration calls: alias it to np.trapezoid (the same function).
REF_MAIN="import sys; import numpy as np; np.trapz = getattr(np, 'trapz', None) or np.trapezoid
sys.path.insert(0, '$REPO/bench'); import reference_train_timer as t; t._offline_font()
from yolov5 import val; sys.argv[0] = 'val.py'; val.run(**vars(val.parse_opt()), plots=False)"
for r in $(seq 1 "$ROUNDS"); do
    run_timed "ref_$r" "$OUT/ref_$r.log" env TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 YOLO_AUTOINSTALL=false \
        "$REF_PYTHON" -c "$REF_MAIN" "${COMMON[@]}" --project "$OUT/ref_runs" --name "r$r"
    run_timed "ours_$r" "$OUT/ours_$r.log" "$OUR_PYTHON" -m recipec val "${COMMON[@]}" --format json --no-plots \
        --project "$OUT/ours_runs" --name "r$r"
done

"$OUR_PYTHON" - "$OUT" <<'EOF'
import json, re, statistics, sys
from pathlib import Path

out = Path(sys.argv[1])
log = (out / "load.log").read_text()
walls = dict(re.findall(r"^(\S+) wall_s ([0-9.]+)$", log, re.M))
loads = dict(re.findall(r"^(\S+) load: (.*)$", log, re.M))
NUM = r"([0-9.]+)"
runs = {}
for f in sorted(out.glob("*_*.log")):
    name, text = f.stem, f.read_text(errors="replace")
    err = Path(f"{f}.err").read_text(errors="replace") if Path(f"{f}.err").is_file() else ""
    r = {"wall_s": float(walls.get(name, "nan")), "load": loads.get(name)}
    if name.startswith("ref"):  # its table's `all` row and its Speed line (its logger may write to either stream)
        text += "\n" + err
        m = re.search(rf"^\s*all\s+\d+\s+\d+\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}\s*$", text, re.M)
        s = re.search(rf"Speed: {NUM}ms pre-process, {NUM}ms inference, {NUM}ms NMS", text)
        if m:
            r["map50"], r["map50_95"] = float(m.group(3)), float(m.group(4))
        if s:
            r["speed_ms"] = dict(zip(("preprocess", "inference", "nms"), map(float, s.groups())))
        # its NMS gives up on a batch after 0.5 + 0.05 * batch seconds (the rest of the batch gets no boxes)
        r["nms_time_limit_hits"] = text.count("NMS time limit")
    else:  # recipec val --format json: one JSON object on stdout
        try:
            rep = json.loads(text[text.index("{"):])
            r.update(map50=rep["map50"], map50_95=rep["map50_95"], speed_ms=rep["speed_ms"])
        except (ValueError, KeyError):
            pass
    runs[name] = r
summary = {"runs": runs}
for kind in ("ref", "ours"):
    rs = [r for n, r in runs.items() if n.split("_")[0] == kind]
    if rs:
        nms = [r["speed_ms"]["nms"] / r["speed_ms"]["inference"] for r in rs if "speed_ms" in r]
        summary[kind] = {"median_wall_s": statistics.median(r["wall_s"] for r in rs),
                         "best_wall_s": min(r["wall_s"] for r in rs),
                         "map50": rs[-1].get("map50"), "map50_95": rs[-1].get("map50_95"),
                         "median_nms_share": statistics.median(nms) if nms else None}
if "ref" in summary and "ours" in summary:
    summary["wall_ratio_ours_over_ref"] = summary["ours"]["median_wall_s"] / summary["ref"]["median_wall_s"]
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
for n, r in runs.items():
    sp = r.get("speed_ms") or {}
    print(f"{n:<8} process {r['wall_s']:6.1f} s   mAP50 {r.get('map50', float('nan')):.4f}  "
          f"mAP50-95 {r.get('map50_95', float('nan')):.4f}   inference {sp.get('inference', float('nan')):.1f} ms/img"
          f"  NMS {sp.get('nms', float('nan')):.1f} ms/img   load {r['load']}"
          + (f"   NMS time limit hit in {r['nms_time_limit_hits']} batches" if r.get("nms_time_limit_hits") else ""))
for kind in ("ref", "ours"):
    if kind in summary:
        s = summary[kind]
        share = s["median_nms_share"]
        print(f"{kind:<8} median process {s['median_wall_s']:.1f} s (best {s['best_wall_s']:.1f} s), "
              f"NMS/inference median {share * 100 if share is not None else float('nan'):.1f} %")
if "wall_ratio_ours_over_ref" in summary:
    ratio = summary["wall_ratio_ours_over_ref"]
    print(f"recipec / reference wall time (medians): {ratio:.2f}x (goal <= 1.00: {'met' if ratio <= 1 else 'missed'})")
print(f"wrote {out / 'summary.json'}")
EOF
