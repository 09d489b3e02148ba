"""The gateway's routes, one module per resource; `static` (the web UI) comes last."""
