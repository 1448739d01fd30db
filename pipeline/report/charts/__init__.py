"""The report's charts: one module per chart, each a function from analysis tables to a
matplotlib Figure, for one to twenty conferences (see ``style`` for what they share)."""

from pipeline.report.charts.actors import recommendations_by_actor
from pipeline.report.charts.entities import entities
from pipeline.report.charts.keyness import keyness
from pipeline.report.charts.style import render
from pipeline.report.charts.theme_shares import theme_shares
from pipeline.report.charts.theme_shift import theme_shift

__all__ = ["entities", "keyness", "recommendations_by_actor", "render", "theme_shares", "theme_shift"]
