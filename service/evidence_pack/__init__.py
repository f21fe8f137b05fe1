"""The evidence pack: one innovation's status and evidence as a printable HTML document.

- `service.py` — the pack's rules: the status and history as the caller may read them, the
  innovation's own words, the next steps for amber and red indicators, the access-log entry.
- `document.py` + `templates/pack.html.j2` — the HTML (A4 print styles, autoescaped, no script).
- `charts.py` — each indicator's monthly trend as SVG, with its thresholds, drawn by pygal.
- `levers.py` + `levers.yaml` — what a provider can do next, per indicator (data, checked at import).
- `repository.py` — the innovation's words and the names of its provider and services.
- `router.py` — `GET /v1/innovations/{id}/evidence-pack`.
"""
