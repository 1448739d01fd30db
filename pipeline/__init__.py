"""Conference-memo pipeline: ingest -> extract -> analyze -> report.

Each stage is a package with a pure core (text in, tables out) and a thin ``stage`` module
that reads and writes the documented tables in ``processed/`` (see docs/outputs.md).
"""

__version__ = "0.1.0"
