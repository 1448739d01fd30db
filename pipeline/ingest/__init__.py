"""Ingest stage: memo files -> ordered text units with metadata."""
