"""`recipec demo`: the seed workflow (`run.py`), the same on a real dataset (`data.py`), and the table (`report.py`)."""
