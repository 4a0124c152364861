"""recipec: a compiler, linter and scheduler for SparseML-style sparsification recipes.

The front end (parse -> IR -> check -> plan) lives here and never imports torch at module
level, so `recipec lint` and `recipec plan` start fast and run where torch is absent.
"""

__version__ = "0.1.0"
