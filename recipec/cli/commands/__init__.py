"""One module per CLI command group. Each exposes `register(app)`.

Modules here must not import torch (or engine/, yolo/) at module level: do it inside the
command function, so that `recipec lint` and `recipec plan` stay fast.
"""
