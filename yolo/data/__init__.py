"""Datasets for the bundled YOLOv5: data YAMLs, label scanning, augmentation, VOC and synthetic data.

Public entry points (torch is imported only by `collate_fn` / `create_dataloader`):
- `load_data_yaml(path) -> DataConfig`, `list_images(cfg, split) -> list[Path]`, `DataError`
- `YoloDataset(files, nc, ...)`, `YoloDataset.from_yaml(yaml, split, ...)`, `YoloDataset.collate_fn`
- `create_dataloader(yaml, split, ...) -> (DataLoader, YoloDataset)`
"""

from yolo.data.dataset import YoloDataset, create_dataloader
from yolo.data.yaml import DataConfig, DataError, img2label_path, list_images, load_data_yaml

__all__ = ["DataConfig", "DataError", "YoloDataset", "create_dataloader", "img2label_path", "list_images",
           "load_data_yaml"]
