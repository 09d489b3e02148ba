"""HTTP edge helpers shared by the RAG service and the gateway: SSE responses and error mapping."""
