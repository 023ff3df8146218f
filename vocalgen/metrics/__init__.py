"""Evaluation metrics: retrieval rankings (MRR, NDCG, top-k) and their epoch-level evaluators."""
