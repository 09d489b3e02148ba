"""The command-line client of the gateway: `ragis ingest` and `ragis ask`."""
