"""The RAG service's routes, one module per resource."""
