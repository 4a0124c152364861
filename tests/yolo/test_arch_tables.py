"""The YOLOv5 layouts share one head: the v5.0 table is its own backbone plus the very rows of the v6 head."""

from yolo.arch import LAYOUTS, V5_LAYERS, V6_LAYERS

HEAD = slice(10, None)


def test_v5_and_v6_share_one_head_table():
    assert set(LAYOUTS) == {"v5", "v6"} and len(V5_LAYERS) == len(V6_LAYERS) == 25
    assert all(a is b for a, b in zip(V5_LAYERS[HEAD], V6_LAYERS[HEAD], strict=True))
    assert [r.kind for r in V5_LAYERS[:10]] != [r.kind for r in V6_LAYERS[:10]]  # only the backbones differ
