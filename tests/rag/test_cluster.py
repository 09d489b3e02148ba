"""The RAG service on a Redis Cluster with a sharded collection: same answers, partial when a
node is down, full again when it is back."""

from __future__ import annotations

from redis.crc import key_slot

from ragis.store.keys import Keys
from support.cluster import LocalCluster
from support.fixtures import rag_client
from support.http import collect_events
from support.llm_servers import OpenAIServer
from support.texts import DOCS, index_body


async def test_chat_on_a_sharded_cluster_collection_and_a_node_down(
    start_rag: object, redis_cluster: LocalCluster, llm: OpenAIServer, prefix: str
) -> None:
    with start_rag(redis_url=redis_cluster.url, shards=3) as url:  # type: ignore[operator]
        async with rag_client(url, timeout=30) as rag:
            created = await rag.post("/collections", json={"name": "kb", "shards": 3})
            assert created.json()["shards"] == 3
            for i, name in enumerate(DOCS):
                body = index_body(name, collection="kb", doc_id=f"doc{i}")
                assert (await rag.post("/index", json=body)).status_code == 200
            full = await collect_events(
                rag, "/chat/stream", {"message": "castling", "collection": "kb", "top_k": 6}
            )
            assert full[0].data["partial"] is False
            assert len(full[1].data["citations"]) == 6

            ck = Keys(prefix).collection("kb")
            main = redis_cluster.node_for_slot(key_slot(ck.meta.encode()))
            victim = next(
                redis_cluster.node_for_slot(key_slot(shard.vectors.encode()))
                for shard in ck.shards(3)
                if redis_cluster.node_for_slot(key_slot(shard.vectors.encode())) is not main
                and any(ck.shard_for(f"doc{i}", 3) == shard for i in range(len(DOCS)))
            )
            victim.stop()
            try:
                partial = await collect_events(
                    rag, "/chat/stream", {"message": "baking bread", "collection": "kb", "top_k": 6}
                )
            finally:
                redis_cluster.restart(victim)
            assert partial[0].data["partial"] is True, [e.data for e in partial][:3]
            assert partial[-1].type == "done"
            assert 0 < len(partial[1].data["citations"]) < 6
            calls = len(llm.chat_requests)
            again = await collect_events(
                rag, "/chat/stream", {"message": "baking bread", "collection": "kb", "top_k": 6}
            )
            # The partial answer was not cached: the whole corpus is searched again.
            assert again[0].data["partial"] is False
            assert len(again[1].data["citations"]) == 6
            assert len(llm.chat_requests) == calls + 1
