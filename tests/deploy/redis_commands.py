"""The Redis commands ragis sends, read from its source, and the ACL of docker/redis/users.acl.

`commands_in_source()` walks the modules that speak Redis (ragis.store, ragis.db,
ragis.accounts: the house rule keeps Redis there, tests/test_layers.py-style checks elsewhere
enforce it) and collects, as `COMMAND` or `COMMAND|SUBCOMMAND`:

- `x.execute_command("VADD", ...)`: the first argument (a string literal; anything else is
  reported, so that a command is never missed silently);
- redis-py's command methods called on a client or a pipeline (`self._redis.hget(...)`,
  `pipe.sadd(...)`): each method's command (`delete` is DEL, `scan_iter` is SCAN, ...); a
  transaction (`pipeline(transaction=True)`) is MULTI and EXEC, `watch` WATCH;
- `redis.call('HSET', ...)` in Lua scripts (EVAL runs them as the same user: the ACL checks each);
- what every connection sends: redis-py's hand-shake (AUTH, CLIENT SETINFO) and ragis's checks
  at start (INFO, VCARD of a probe key) — part of the source walked too, listed for clarity.

`Acl.parse(text)` reads a users.acl rule line into what it allows, the way Redis does for the
rules used there (`+cmd`, `+cmd|sub`, `-@all`, `~pattern`).
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio

from deploy.composefile import REPO

__all__ = ["REDIS_MODULES", "Acl", "commands_in_source", "unresolved_calls"]

REDIS_MODULES = ("store", "db", "accounts")
#: The names a client or pipeline goes by in those modules.
_RECEIVERS = {"redis", "_redis", "client", "pipe", "pipeline", "tx", "cluster", "conn"}
#: redis-py methods that are not a command of their own.
_NOT_COMMANDS = {
    "aclose", "close", "execute", "execute_command", "from_url", "from_pool", "initialize",
    "pipeline", "register_script", "reset", "lock", "get_connection_kwargs", "transaction",
}  # fmt: skip
_RENAMED = {
    "delete": "DEL",
    "scan_iter": "SCAN",
    "hscan_iter": "HSCAN",
    "sscan_iter": "SSCAN",
    "zscan_iter": "ZSCAN",
    "script_load": "SCRIPT|LOAD",
    "script_exists": "SCRIPT|EXISTS",
    "client_setinfo": "CLIENT|SETINFO",
    "client_setname": "CLIENT|SETNAME",
    "cluster_info": "CLUSTER|INFO",
}
#: Sent on every connection or at start whatever the code path (redis-py's hand-shake).
HANDSHAKE = {"AUTH", "CLIENT|SETINFO"}
_LUA_CALL = re.compile(r"redis\.p?call\(\s*['\"]([A-Za-z]+)['\"]")
_CLIENT_METHODS = {
    name
    for cls in (redis.asyncio.Redis, redis.asyncio.client.Pipeline)
    for name in dir(cls)
    if not name.startswith("_") and callable(getattr(cls, name))
}


def _receiver(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


#: `ragis up`'s own Redis server (stopped with SHUTDOWN), not a client of a deployment's Redis.
_NOT_CLIENTS = {"embedded.py"}


def _files(src: Path) -> list[Path]:
    return sorted(
        f
        for name in REDIS_MODULES
        for f in (src / "ragis" / name).rglob("*.py")
        if f.name not in _NOT_CLIENTS
    )


def _calls(src: Path) -> list[tuple[Path, ast.Call, str]]:
    found = []
    for path in _files(src):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and _receiver(node.func.value) in _RECEIVERS
            ):
                found.append((path, node, node.func.attr))
    return found


def _command_of(node: ast.Call) -> str | None:
    if not node.args or not isinstance(node.args[0], ast.Constant):
        return None
    name = str(node.args[0].value).upper()
    # A command with a subcommand: `execute_command("CLUSTER", "INFO")`.
    if (
        name in ("CLUSTER", "CLIENT", "SCRIPT", "ACL", "CONFIG", "OBJECT", "MEMORY")
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
    ):
        return f"{name}|{str(node.args[1].value).upper()}"
    return name


def commands_in_source(src: Path = REPO / "src") -> set[str]:
    """Every command ragis's Redis modules send (see the module docstring)."""
    commands = set(HANDSHAKE)
    for _, node, method in _calls(src):
        if method == "execute_command":
            name = _command_of(node)
            if name is not None:
                commands.add(name)
        elif method == "pipeline":
            for keyword in node.keywords:
                if keyword.arg == "transaction" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    commands |= {"MULTI", "EXEC", "DISCARD"}
        elif method == "register_script":
            commands |= {"EVALSHA", "SCRIPT|LOAD"}
        elif method in _RENAMED:
            commands.add(_RENAMED[method])
        elif method in _CLIENT_METHODS and method not in _NOT_COMMANDS:
            commands.add(method.upper())
    for path in _files(src):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                commands |= {name.upper() for name in _LUA_CALL.findall(node.value)}
    return commands


def unresolved_calls(src: Path = REPO / "src") -> list[str]:
    """`execute_command` calls whose command is not a literal: to be taught to this module."""
    return [
        f"{path.relative_to(src)}:{node.lineno}"
        for path, node, method in _calls(src)
        if method == "execute_command" and _command_of(node) is None
    ]


@dataclass
class Acl:
    """One `user NAME rule...` line of an ACL file, as far as its rules are used here."""

    user: str
    on: bool = False
    all_commands: bool = False
    allowed: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)
    key_patterns: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    passwords: list[str] = field(default_factory=list)

    @classmethod
    def parse_file(cls, text: str) -> dict[str, Acl]:
        users = [cls.parse(line) for line in text.splitlines() if line.startswith("user ")]
        return {user.user: user for user in users}

    @classmethod
    def parse(cls, line: str) -> Acl:
        keyword, name, *rules = line.split()
        assert keyword == "user", line
        acl = cls(user=name)
        for rule in rules:
            lower = rule.lower()
            if lower in ("on", "off"):
                acl.on = lower == "on"
            elif lower in ("-@all", "nocommands"):
                acl.all_commands, acl.allowed = False, set()
            elif lower in ("+@all", "allcommands"):
                acl.all_commands = True
            elif lower in ("resetkeys",):
                acl.key_patterns = []
            elif lower in ("resetchannels",):
                acl.channels = []
            elif lower.startswith("+@") or lower.startswith("-@"):
                raise ValueError(f"{rule}: categories are not used here, name the commands")
            elif rule.startswith("+"):
                acl.allowed.add(rule[1:].upper())
            elif rule.startswith("-"):
                acl.denied.add(rule[1:].upper())
            elif rule.startswith("~"):
                acl.key_patterns.append(rule[1:])
            elif rule.startswith("&"):
                acl.channels.append(rule[1:])
            elif rule.startswith(("#", ">")):
                acl.passwords.append(rule)
            elif lower in ("nopass", "resetpass", "reset"):
                raise ValueError(f"{rule}: not expected in ragis's ACL")
            else:
                raise ValueError(f"unknown ACL rule {rule!r}")
        return acl

    def allows(self, command: str) -> bool:
        """Whether `COMMAND` or `COMMAND|SUB` may run (AUTH always may, as in Redis)."""
        command = command.upper()
        parent = command.split("|")[0]
        if command in ("AUTH", "HELLO") and self.on:
            return True
        if command in self.denied or parent in self.denied:
            return False
        return self.all_commands or command in self.allowed or parent in self.allowed

    def allows_key(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.key_patterns)
