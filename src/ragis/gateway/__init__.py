"""The gateway (port 8080): the only public entry point of ragis.

It serves the web UI and the `/api` that the UI calls, reads uploads (parse, chunk) and sends
everything else to the RAG service over HTTP. It never talks to Redis.
"""
