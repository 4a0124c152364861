"""Data plumbing for training: a deterministic, resumable, rank-sharded batch order and the validation hook.

Batch order: epoch ``e`` shuffles the dataset with a generator seeded from ``(seed, e)``, pads it to a multiple
of the world size, takes every ``world``-th index for this rank and cuts batches; resuming at batch ``k`` skips
the first ``k`` batches of that same order. Augmentation draws come from ``YoloDataset``'s per-sample streams
``(seed, epoch, index)``. So an interrupted run resumed at step ``k`` sees exactly the batches the
uninterrupted run saw, for any number of loader workers.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Sampler


class EpochBatchSampler(Sampler):
    """Yields index lists (batches) for ``epoch`` starting at batch ``first``; ``len`` = batches per epoch."""

    def __init__(self, n: int, batch: int, seed: int, rank: int = 0, world: int = 1):
        self.n, self.batch, self.seed, self.rank, self.world = n, batch, seed, rank, world
        self.epoch, self.first = 0, 0
        self.per_rank = math.ceil(n / world)

    def set(self, epoch: int, first: int) -> None:
        self.epoch, self.first = epoch, first

    def __len__(self) -> int:
        return math.ceil(self.per_rank / self.batch)

    def order(self, epoch: int) -> list[list[int]]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        perm = torch.randperm(self.n, generator=g).tolist()
        perm += perm[: self.per_rank * self.world - self.n]  # pad so every rank gets the same count
        mine = perm[self.rank::self.world]
        return [mine[i:i + self.batch] for i in range(0, len(mine), self.batch)]

    def __iter__(self):
        # eager: the order is fixed when the iterator is made (a prefetching loader makes it before the epoch)
        return iter(self.order(self.epoch)[self.first:])


CACHE_BUDGET_BYTES = 2 * 2**30  # decoded training images are kept in RAM when they fit in this
CACHE_ENV = "RECIPEC_CACHE_IMAGES"  # "0" never caches, "1" always does; unset = by the budget


def cache_decoded(n_images: int, imgsz: int) -> bool:
    """Keep the decoded, resized training images in RAM? Yes when ``n * imgsz^2 * 3`` bytes (an upper bound:
    the long side is imgsz) fit in CACHE_BUDGET_BYTES, so small sets (coco128: 39 MB at 320) skip the JPEG
    decode + resize (about half of the per-image loading CPU time) from the second use on; large sets stay
    streaming. Decoding happens once, before the loader's workers fork, so they share the pages.
    ``RECIPEC_CACHE_IMAGES=0/1`` overrides."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env in ("0", "1"):
        return env == "1"
    return n_images * imgsz * imgsz * 3 <= CACHE_BUDGET_BYTES


def make_train_loader(data: Any, a: Any, hyp: dict, rank: int, world: int):
    """(loader_for(epoch, first_batch), steps_per_epoch, dataset) for the training split; ``loader_for`` is an
    :class:`EpochLoaders` (it can also ``prefetch`` an epoch)."""
    from yolo.data.augment import AugmentHyp
    from yolo.data.dataset import YoloDataset
    from yolo.data.yaml import DataError

    from yolo.data.yaml import DataConfig, list_images, load_data_yaml

    aug = AugmentHyp(**{k: float(v) for k, v in hyp.items() if k in AugmentHyp.__dataclass_fields__})
    cfg = data if isinstance(data, DataConfig) else load_data_yaml(data)
    files = list_images(cfg, "train")
    ds = YoloDataset(files, cfg.nc, names=list(cfg.names), imgsz=a.imgsz, batch_size=a.batch, augment=True,
                     hyp=aug, seed=a.seed, workers=max(a.workers, 1),
                     cache_images=cache_decoded(len(files), a.imgsz))
    if len(ds) == 0:
        raise DataError(f"no training images found for {getattr(data, 'yaml_path', data)}")
    sampler = EpochBatchSampler(len(ds), a.batch, a.seed, rank, world)
    loader = DataLoader(ds, batch_sampler=sampler, num_workers=a.workers, collate_fn=YoloDataset.collate_fn,
                        pin_memory=str(a.device).startswith("cuda"))
    return EpochLoaders(loader, ds, sampler), len(sampler), ds


class EpochLoaders:
    """The ``loader_for`` of a training Session: ``(epoch, first)`` -> an iterator over the batches of ``epoch``
    from batch ``first`` on.

    ``prefetch(epoch, first)`` starts that epoch's loader workers ahead of time (they fork with the dataset set
    to ``epoch`` and fill their queues: ``num_workers * prefetch_factor`` batches) so that the first batches of an
    epoch are decoded while the trainer is still busy elsewhere (set-up before the first epoch, validation and
    checkpoints between epochs) instead of stalling the first optimizer step. The next call for the same
    ``(epoch, first)`` returns that running iterator; any other call drops it and starts afresh. The batches are
    the same either way: they depend only on (seed, epoch, index). A no-op without workers (nothing runs ahead).
    """

    def __init__(self, loader: DataLoader, ds: Any, sampler: EpochBatchSampler):
        self.loader, self.ds, self.sampler = loader, ds, sampler
        self._ahead: tuple[tuple[int, int], Any] | None = None

    def _start(self, epoch: int, first: int):
        self.ds.set_epoch(epoch)
        self.sampler.set(epoch, first)
        return iter(self.loader)

    def prefetch(self, epoch: int, first: int = 0) -> None:
        if self.loader.num_workers > 0 and first < len(self.sampler):
            self._ahead = None  # shut down any earlier one first
            self._ahead = ((epoch, first), self._start(epoch, first))

    def __call__(self, epoch: int, first: int):
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == (epoch, first):
            return ahead[1]
        del ahead
        return self._start(epoch, first)


def make_validate(data: Any, a: Any, train_ds: Any, hyp: dict, device: torch.device, loss_fn: Any = None):
    """validate(model) -> {P, R, mAP50, mAP50_95, val_losses}; ``.final_table(weights)`` renders the end table.

    `loss_fn` (the training `YoloLoss`) makes validation also report the val box/obj/cls losses, from the
    same forward pass (YOLOv5's `val/*_loss` columns).

    Returns None when the data has no val split (validation is then skipped, fitness stays 0)."""
    from yolo.data.dataset import create_dataloader
    from yolo.data.yaml import DataError

    if "val" not in getattr(data, "splits", {}):
        return None
    try:
        loader, _ = create_dataloader(data, "val", imgsz=a.imgsz, batch_size=a.batch * 2, workers=a.workers,
                                      seed=a.seed)
    except DataError:
        return None
    from yolo.val import validate as yolo_validate

    names = list(data.names)
    from engine.progress import progress_callback

    def validate(model) -> dict[str, float]:
        with progress_callback("validating", enabled=bool(getattr(a, "progress", False))) as bar:
            r = yolo_validate(model, loader, device=device, names=names, loss_fn=loss_fn, progress=bar)
        out = {"P": r["precision"], "R": r["recall"], "mAP50": r["map50"], "mAP50_95": r["map50_95"],
               "report": r}
        if "loss" in r:
            out["val_losses"] = tuple(float(x) for x in r["loss"])
        return out

    def final_table(weights, plots_dir=None) -> str:
        """The val table of `weights` loaded as `recipec val` and the export load them (a QAT checkpoint as the
        QAT model); `plots_dir` also gets YOLOv5's validation plots."""
        from engine.export.load import load_for_export

        loaded = load_for_export(weights)
        with progress_callback("validating", enabled=bool(getattr(a, "progress", False))) as bar:
            r = yolo_validate(loaded.model.to(device), loader, device=device, names=names, progress=bar,
                              plots_dir=plots_dir)
        return f"{Path(weights).name}: {loaded.describe()}\n" + format_val_table(r)

    validate.final_table = final_table  # type: ignore[attr-defined]
    return validate


def format_val_table(r: dict) -> str:
    """YOLOv5's val table: Class, Images, Instances, P, R, mAP50, mAP50-95; 'all' first."""
    head = f"{'Class':>22}{'Images':>11}{'Instances':>11}{'P':>11}{'R':>11}{'mAP50':>11}{'mAP50-95':>11}"
    rows = [head, f"{'all':>22}{r['images']:>11}{r['instances']:>11}{r['precision']:>11.3g}{r['recall']:>11.3g}"
                  f"{r['map50']:>11.3g}{r['map50_95']:>11.3g}"]
    for c in r.get("per_class", []):
        rows.append(f"{c['name']:>22}{c['images']:>11}{c['instances']:>11}{c['precision']:>11.3g}"
                    f"{c['recall']:>11.3g}{c['map50']:>11.3g}{c['map50_95']:>11.3g}")
    return "\n".join(rows)
