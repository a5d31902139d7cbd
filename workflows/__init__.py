"""Deterministic orchestration only: no I/O, no vendor SDK imports."""
