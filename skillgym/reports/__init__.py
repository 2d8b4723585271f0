"""Reports built from runs and measurements: the privilege ablation and the speed table."""
