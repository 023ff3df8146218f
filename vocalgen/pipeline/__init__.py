"""Whole systems in one command: `python -m vocalgen.pipeline +pipeline=NAME` trains a system's stages
in dependency order, hands each stage the MLflow run ids of the stages it needs, reuses finished
runs of the same config and resumes broken ones (see conf/pipeline/ and the README)."""
