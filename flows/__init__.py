"""Prefect: one `repatriation` flow run per case, a periodic sweeper, start/resume helpers."""
