"""docker/redis/users.acl: the ACL user `ragis` may run every command ragis sends and nothing more
dangerous; the default user is off. (test_stack.py runs the whole stack as that user on a real
Redis 8 and asks Redis whether it refused anything.)"""

from __future__ import annotations

import pytest

from deploy.composefile import REPO
from deploy.redis_commands import Acl, commands_in_source, unresolved_calls
from ragis.settings import RedisSettings

ACL_FILE = REPO / "docker" / "redis" / "users.acl"

#: What no ragis process needs and an intruder with its password would want.
NEVER = [
    "KEYS", "FLUSHALL", "FLUSHDB", "CONFIG", "CONFIG|SET", "CONFIG|GET", "ACL", "ACL|SETUSER",
    "MODULE", "DEBUG", "SHUTDOWN", "SAVE", "BGSAVE", "BGREWRITEAOF", "REPLICAOF", "SLAVEOF",
    "MIGRATE", "MONITOR", "SYNC", "PSYNC", "FAILOVER", "CLIENT|KILL", "CLIENT|LIST",
    "SCRIPT|FLUSH", "SCRIPT|KILL", "FUNCTION", "FCALL", "SWAPDB", "MOVE", "COPY", "OBJECT",
    "SUBSCRIBE", "PUBLISH", "CLUSTER|RESET", "CLUSTER|MEET",
]  # fmt: skip


@pytest.fixture(scope="module")
def users() -> dict[str, Acl]:
    return Acl.parse_file(ACL_FILE.read_text())


def test_the_source_names_every_command_it_sends_literally() -> None:
    assert unresolved_calls() == []


def test_the_acl_allows_every_command_ragis_sends(users: dict[str, Acl]) -> None:
    sent = commands_in_source()
    # The finder finds the commands of each part: the store, the accounts, the migration.
    assert {"VADD", "VSIM", "EVAL", "MULTI", "HGETALL", "XADD", "RESTORE", "SCAN"} <= sent
    assert sorted(c for c in sent if not users["ragis"].allows(c)) == []


def test_the_acl_allows_nothing_that_reads_every_key_erases_or_reconfigures(
    users: dict[str, Acl],
) -> None:
    ragis = users["ragis"]
    assert not ragis.all_commands
    assert [command for command in NEVER if ragis.allows(command)] == []


def test_only_ragis_signs_in_and_only_to_the_keys_of_its_prefix(users: dict[str, Acl]) -> None:
    assert set(users) == {"default", "ragis"}
    default, ragis = users["default"], users["ragis"]
    assert not default.on
    assert not default.all_commands
    assert not default.allowed
    assert default.key_patterns == []
    assert default.passwords == []
    assert ragis.on
    # No password in the file: the redis service adds its SHA-256 from the secret.
    assert ragis.passwords == []
    prefix = RedisSettings.model_fields["key_prefix"].default
    assert ragis.key_patterns == [f"{prefix}:*"]
    assert ragis.channels == []
    assert ragis.allows_key(f"{prefix}:w:default:{{c:default/docs}}:meta")
    assert ragis.allows_key(f"{prefix}:{{auth}}:users")
    assert not ragis.allows_key("another-app:key")


def test_the_acl_parser_reads_rules_as_redis_does() -> None:
    acl = Acl.parse("user x on ~p:* resetchannels -@all +get +client|setinfo -client|kill")
    assert acl.allows("GET")
    assert acl.allows("get")
    assert acl.allows("CLIENT|SETINFO")
    assert [c for c in ("CLIENT|KILL", "CLIENT", "SET") if acl.allows(c)] == []
    assert acl.allows("AUTH"), "AUTH is open to every user that is on"
    with pytest.raises(ValueError, match="categories"):
        Acl.parse("user x on +@read")
