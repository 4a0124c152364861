"""The example recipes, installed as the data package `recipec._examples` (see pyproject.toml); read them with
`recipec.examples` (`recipe_path(name)`, `list_recipes()`). This file only makes the folder importable."""
