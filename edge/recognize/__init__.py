"""Recognition: exact 1:N template search and the per-track quality-weighted vote."""

from edge.recognize.search import TemplateIndex, faiss_available
from edge.recognize.vote import VoteConfig, VoteResult, quality_weight, vote

__all__ = ["TemplateIndex", "VoteConfig", "VoteResult", "faiss_available", "quality_weight", "vote"]
