"""The audit stream: newest first, paged by id, bounded."""

from __future__ import annotations

import pytest

from ragis.accounts import Accounts, Action
from ragis.errors import InvalidInput


async def test_events_come_newest_first_a_page_at_a_time(accounts: Accounts) -> None:
    for i in range(5):
        await accounts.audit.record(Action.KEY_CREATED, actor="bob", target=f"k{i}")
    first = await accounts.audit.recent(2)
    assert [e.target for e in first] == ["k4", "k3"]
    second = await accounts.audit.recent(2, before=first[-1].id)
    assert [e.target for e in second] == ["k2", "k1"]
    rest = await accounts.audit.recent(10, before=second[-1].id)
    assert [e.target for e in rest] == ["k0"]


async def test_an_event_keeps_who_what_where_and_whether(accounts: Accounts) -> None:
    await accounts.audit.record(
        Action.MEMBER_SET, actor="alice", target="bob:editor", workspace="team",
        address="10.1.2.3", ok=True,
    )  # fmt: skip
    (event,) = await accounts.audit.recent(1)
    assert (event.action, event.actor, event.target, event.workspace, event.address, event.ok) == (
        "member_set", "alice", "bob:editor", "team", "10.1.2.3", True,
    )  # fmt: skip
    assert event.time > 0


async def test_a_malformed_before_is_refused(accounts: Accounts) -> None:
    with pytest.raises(InvalidInput):
        await accounts.audit.recent(10, before="+")


async def test_fields_a_client_sent_are_cut(accounts: Accounts) -> None:
    await accounts.audit.record(Action.LOGIN_FAILED, actor="x" * 10_000, ok=False)
    (event,) = await accounts.audit.recent(1)
    assert len(event.actor) == 200
