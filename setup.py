"""Only what pyproject.toml cannot say: the package list is found (`recipec*`, `engine*`, `yolo*`) plus
`recipec._examples`, which pyproject.toml's [tool.setuptools.package-dir] maps onto examples/recipes/ (the one
copy of the example recipes, shipped in the wheel and read with importlib.resources by `recipec.examples`).
Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["recipec", "recipec.*", "engine", "engine.*", "yolo", "yolo.*"])
      + ["recipec._examples"])
