"""yolo: the bundled YOLOv5 (our own code, written from the published architecture)."""
