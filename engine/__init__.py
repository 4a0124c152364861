"""engine: the torch runtime that applies a recipe's plan to a model (masks, LR, QAT, loop, export)."""
