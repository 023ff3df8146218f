"""What `vocalgen.evaluate` runs on a checkpoint: the evaluations its experiment lists under `evaluators`."""
