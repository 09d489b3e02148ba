"""One module per report section; each exposes `run(ctx) -> Section`."""
