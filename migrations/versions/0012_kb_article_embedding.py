"""kb: article embeddings stored for the semantic stage, so a process start loads them instead of
re-embedding every article (float32 bytes; no pgvector needed)

Revision ID: 0012_kb_article_embedding
Revises: 0009_kb_category
Create Date: 2026-11-23 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_kb_article_embedding"
down_revision: str | None = "0009_kb_category"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_article_embedding",
        sa.Column("article_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_article.id"],
            name=op.f("fk_kb_article_embedding_article_id_kb_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "article_id", "model", "side", "text_sha256", name=op.f("pk_kb_article_embedding")
        ),
    )


def downgrade() -> None:
    op.drop_table("kb_article_embedding")
