"""Seeing how models learn: plots, galleries, 2-D maps, the HTML model report, the model contest and
hyperparameter sweeps. Built on matplotlib (no pyplot: never a GUI window) and the layers below."""
