"""mAP of the INT8 ONNX export vs the fake-quant PyTorch model it came from, on coco128 (onnxruntime).

yolov5n.pt is prepared for QAT (`QuantSpec`, calibrated on 32 coco128 images, BN and observers frozen),
exported, and both are scored with `yolo.val.validate` on the same loader (letterboxed 640, batch 1,
no rect so the static-shape ONNX fits). Goal (issue 6): INT8 ONNX mAP within 1 % of the fake-quant model.

    python bench/export_map.py [--imgsz 640] [--sparseml] [--int8-graph] [--stem-fp32]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
import yaml

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "external"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--conv-acts", "--sparseml", dest="conv_acts", action="store_true",
                    help="the SparseML YOLOv5 recipes' layout: QuantSpec(quantize_conv_activations=True)")
    ap.add_argument("--int8-graph", action="store_true", help="QuantSpec(quantize_silu=True): the fast ORT layout")
    ap.add_argument("--stem-fp32", action="store_true", help="leave model.0 (the 6x6 stem conv) unquantized")
    ap.add_argument("--weights", default=str(SHARED / "weights" / "yolov5n.pt"))
    a = ap.parse_args()

    import yolo
    from engine.export.onnx_export import export_onnx
    from engine.quant import QuantSpec, disable_observer, freeze_bn_stats, prepare_qat
    from yolo.data.dataset import create_dataloader
    from yolo.val import OnnxModel, validate

    model = yolo.load_model(a.weights)
    tmp = Path(tempfile.mkdtemp())
    data = tmp / "coco128.yaml"
    data.write_text(yaml.safe_dump({"path": str(SHARED / "coco128"), "train": "images/train2017",
                                    "val": "images/train2017", "names": list(model.names)}))
    loader, _ = create_dataloader(data, "val", imgsz=a.imgsz, batch_size=1, rect=False)
    fp = validate(model, loader)
    subs = tuple(n for n, _ in model.model.named_children() if n != "0") if a.stem_fp32 else None
    prepare_qat(model, QuantSpec(quantize_conv_activations=a.conv_acts, quantize_silu=a.int8_graph,
                                 submodules=tuple(f"model.{n}" for n in subs) if subs else None))
    model.train()
    freeze_bn_stats(model)
    with torch.no_grad():
        for i, (x, *_rest) in enumerate(loader):
            if i == 32:
                break
            model(x.float() / 255 if x.dtype == torch.uint8 else x)
    disable_observer(model)
    model.eval()
    fq = validate(model, loader)
    path = tmp / "int8.onnx"
    export_onnx(model, path, imgsz=a.imgsz)
    ox = validate(OnnxModel(path), loader)
    print(f"coco128 ({fp['images']} images), imgsz {a.imgsz}, conv-acts {a.conv_acts}, int8-graph {a.int8_graph}, "
          f"stem-fp32 {a.stem_fp32}")
    for name, r in (("float torch", fp), ("fake-quant torch", fq), ("INT8 ONNX (ORT)", ox)):
        print(f"{name:<18} mAP50 {r['map50']:.4f}  mAP50-95 {r['map50_95']:.4f}")
    d = ox["map50_95"] - fq["map50_95"]
    print(f"INT8 ONNX - fake-quant mAP50-95: {d:+.4f} ({100 * d / max(fq['map50_95'], 1e-9):+.2f} % relative)")


if __name__ == "__main__":
    main()
