"""What `validate(..., plots_dir=...)` collects for YOLOv5's validation plots, and writes at the end:
the confusion matrix (detections above conf 0.25 matched at IoU 0.45, `yolo.confusion`), the first batch with
its labels and its detections (`val_batch0_labels.jpg`, `val_batch0_pred.jpg`) and the PR/F1/P/R curves."""

from __future__ import annotations

from pathlib import Path

import torch

from yolo.confusion import ConfusionMatrix


class ValPlots:
    def __init__(self, save_dir: str | Path, names: list[str] | None):
        self.dir = Path(save_dir)
        self.names = list(names) if names is not None else None
        self.cm = ConfusionMatrix(len(self.names)) if self.names else None

    def first_batch(self, imgs: torch.Tensor, targets: torch.Tensor, dets: list[torch.Tensor]) -> None:
        """Batch 0 as two JPEGs: labels (targets: image, class, xywh normalized) and detections (xyxy, conf, cls
        in network pixels)."""
        from yolo.nms import xywh2xyxy
        from yolo.plot_images import plot_batch

        self.dir.mkdir(parents=True, exist_ok=True)
        h, w = imgs.shape[2:]
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        t = targets.detach().float().cpu()
        labels = [torch.cat([t[t[:, 0] == i, 1:2], xywh2xyxy(t[t[:, 0] == i, 2:6]) * scale], 1).numpy()
                  for i in range(imgs.shape[0])]
        preds = [torch.cat([d[:, 5:6], d[:, :5]], 1).detach().float().cpu().numpy() for d in dets]
        plot_batch(self.dir / "val_batch0_labels.jpg", imgs, labels, self.names)
        plot_batch(self.dir / "val_batch0_pred.jpg", imgs, preds, self.names)

    def image(self, pred: torch.Tensor, label_cls: torch.Tensor, label_boxes: torch.Tensor | None) -> None:
        """One image's detections (n, 6) and labels, in the same (original) pixels."""
        if self.cm is not None:
            boxes = label_boxes if label_boxes is not None else torch.zeros((len(label_cls), 4))
            self.cm.add(pred, label_cls, boxes)

    def finish(self, stats) -> list[Path]:
        from yolo.plots import save_val_plots

        return [p for p in (self.dir / "val_batch0_labels.jpg", self.dir / "val_batch0_pred.jpg") if p.is_file()] \
            + save_val_plots(self.dir, stats, self.cm, self.names)
