"""The report's charts by name: what the report stage draws (each chart lives in
``pipeline.report.charts.<name>``)."""

from __future__ import annotations

from pipeline.report.charts import (
    entities,
    keyness,
    recommendations_by_actor,
    render,
    theme_shares,
    theme_shift,
)  # fmt: skip

__all__ = ["entities", "keyness", "recommendations_by_actor", "render", "theme_shares", "theme_shift"]
