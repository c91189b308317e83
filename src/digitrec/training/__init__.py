"""Training (torch and scikit-learn): config and presets, the loop, checkpoints, augmentation."""
