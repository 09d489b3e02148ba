"""The RAG service (port 8001): embeddings, indexing, retrieval, streamed answers with citations."""
