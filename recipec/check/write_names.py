"""Regenerate `recipec/check/yolo_names.json` from `yolo.names` (after a change to yolo/arch.py).

    python -m recipec.check.write_names
"""

from recipec.check.model import write_table

if __name__ == "__main__":
    write_table()
