"""The checks of `ragis doctor`, one module per group; each returns `Check` lines (result.py)."""
