"""`yolo.errtext.first_line`: error text for one message line, whatever the exception says (#17 item 13: every
`str(e).splitlines()[0]`, which raised IndexError on an empty message, now goes through it)."""

from __future__ import annotations

from yolo.errtext import first_line


def test_first_line():
    assert first_line(EOFError()) == "EOFError"
    assert first_line(ValueError("\n  \n")) == "ValueError"
    assert first_line(RuntimeError("\n  first  \nsecond")) == "first"


def test_checkpoint_data_error_with_an_empty_message_is_a_note(monkeypatch):
    from engine.export import images
    from yolo.data.yaml import DataError

    def fail(_data):
        raise DataError("")

    monkeypatch.setattr(images, "_val_images", fail)
    chosen = images.pick_images(checkpoint_data="gone.yaml")
    assert chosen.note == "the checkpoint's data gone.yaml: DataError"
