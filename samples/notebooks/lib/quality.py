"""Data quality helpers shared by the notebooks (a plain module: deployed as a workspace file).

Notebooks import it after `%run ../conf/env`, which puts the project folder on sys.path:

    from lib.quality import null_ratios, require_columns
"""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


class QualityError(Exception):
    """A batch that must not be written: the message says which check failed and why."""


def require_columns(df: DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise QualityError(f"missing column(s) {', '.join(missing)}; found {', '.join(df.columns)}")


def null_ratios(df: DataFrame, *columns: str) -> dict:
    """Share of null values per column, computed in one pass."""
    total = df.count()
    if total == 0:
        return {c: 0.0 for c in columns}
    row = df.agg(*[F.sum(F.col(c).isNull().cast("int")).alias(c) for c in columns]).first()
    return {c: (row[c] or 0) / total for c in columns}


def check_nulls(df: DataFrame, max_ratio: float, *columns: str) -> dict:
    ratios = null_ratios(df, *columns)
    bad = {c: r for c, r in ratios.items() if r > max_ratio}
    if bad:
        detail = ", ".join(f"{c}={r:.1%}" for c, r in sorted(bad.items()))
        raise QualityError(f"null ratio above {max_ratio:.1%}: {detail}")
    return ratios
