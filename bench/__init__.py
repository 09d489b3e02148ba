"""The ragis benchmark harness: one command that measures, side by side in one run, what the
README promises and writes `docs/benchmarks.md` with its plots.

    python -m bench [--quick] [--out docs] [--only embedding,ingest,retrieval,chat,peers]

Sections (one module each, `bench/sections/`): embedding backends, ingestion through the
gateway, the retrieval stage at 10k/100k chunks, chat overhead, and peers (LangChain + Chroma,
RedisVL). Every comparison is measured in the same run and given as a ratio with the median and
spread over repeats. Services run in-process on loopback: an embedded Redis 8 in a temp dir, the
RAG service and the gateway under uvicorn, and a loopback OpenAI-compatible LLM (`bench.llm`).
`--quick` runs everything on a tiny corpus in about a minute (the test suite does that once).
"""
