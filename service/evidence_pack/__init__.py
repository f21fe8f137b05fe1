"""The evidence pack: one innovation's status and evidence as a printable HTML document.

- `levers.py` + `levers.yaml` — what a provider can do next, per indicator (data, checked at import).
"""
