"""docker/Dockerfile as the builder reads it: stages, and what each stage's image runs.

`Dockerfile.parse(path)` joins continuation lines, drops comments and gives each stage (a `FROM`
and what follows) its instructions. A stage built `FROM` another stage inherits its environment,
user, working directory, command and health check, as in Docker: `env`, `user`, `workdir`,
`command` and `healthcheck` follow that chain. Only the default escape character (`\\`) is known.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BASE_PATH", "Dockerfile", "Healthcheck", "Instruction", "Stage"]

#: The PATH of the official python, node and redis images (and Docker's default).
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_FLAG = re.compile(r"--([a-z-]+)(?:=(\S*))?\s+")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int

    def flags(self) -> tuple[dict[str, str], str]:
        """The leading `--name=value` flags, and the rest of the arguments."""
        flags, rest = {}, self.args
        while match := _FLAG.match(rest):
            flags[match[1]] = match[2] or ""
            rest = rest[match.end() :]
        return flags, rest

    def argv(self) -> list[str]:
        """A CMD/ENTRYPOINT/RUN as an argv: exec form as written, shell form under /bin/sh -c."""
        return _argv(self.args)


@dataclass(frozen=True)
class Healthcheck:
    options: dict[str, str]
    argv: list[str]


@dataclass
class Stage:
    index: int
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


class Dockerfile:
    def __init__(self, path: Path, stages: list[Stage]) -> None:
        self.path = path
        self.stages = stages

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        stages: list[Stage] = []
        for keyword, args, line in _instructions(path.read_text()):
            if keyword == "FROM":
                _, rest = Instruction(keyword, args, line).flags()  # --platform
                parts = rest.split()
                name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
                stages.append(Stage(len(stages), parts[0], name))
            elif not stages:
                raise ValueError(f"{path}:{line}: {keyword} before the first FROM")
            else:
                stages[-1].instructions.append(Instruction(keyword, args, line))
        return cls(path, stages)

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"{self.path} has no stage {name!r}")

    def chain(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built on, the first one first."""
        names = {s.name: s for s in self.stages if s.name}
        chain = [stage]
        while chain[0].base in names:
            chain.insert(0, names[chain[0].base])
        return chain

    def external_base(self, stage: Stage) -> str:
        return self.chain(stage)[0].base

    def _last(self, stage: Stage, keyword: str) -> Instruction | None:
        for s in reversed(self.chain(stage)):
            found = s.all(keyword)
            if found:
                return found[-1]
        return None

    def env(self, stage: Stage) -> dict[str, str]:
        """The image's environment: every ENV along the chain, `$NAME` expanded as Docker does."""
        env = {"PATH": BASE_PATH}
        for s in self.chain(stage):
            for instruction in s.all("ENV"):
                for token in shlex.split(instruction.args):
                    name, sep, value = token.partition("=")
                    if not sep:
                        raise ValueError(f"line {instruction.line}: use ENV NAME=value")
                    env[name] = re.sub(
                        r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                        lambda m: env.get(m[1], ""),
                        value,
                    )
        return env

    def user(self, stage: Stage) -> str | None:
        last = self._last(stage, "USER")
        return last.args.strip() if last else None

    def workdir(self, stage: Stage) -> str:
        last = self._last(stage, "WORKDIR")
        return last.args.strip() if last else "/"

    def command(self, stage: Stage) -> list[str]:
        """ENTRYPOINT + CMD: what a container of this image runs when given no command."""
        entrypoint, cmd = self._last(stage, "ENTRYPOINT"), self._last(stage, "CMD")
        return (entrypoint.argv() if entrypoint else []) + (cmd.argv() if cmd else [])

    def healthcheck(self, stage: Stage) -> Healthcheck | None:
        last = self._last(stage, "HEALTHCHECK")
        if last is None or last.args.strip().upper() == "NONE":
            return None
        flags, rest = last.flags()
        keyword, _, command = rest.partition(" ")
        if keyword.upper() != "CMD":
            raise ValueError(f"line {last.line}: HEALTHCHECK needs CMD")
        return Healthcheck(flags, _argv(command.strip()))


def _argv(args: str) -> list[str]:
    text = args.strip()
    if text.startswith("["):
        value = json.loads(text)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", text]


def _instructions(text: str) -> list[tuple[str, str, int]]:
    result, buffer, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        keyword, _, args = buffer.partition(" ")
        result.append((keyword.upper(), args.strip(), start))
        buffer = ""
    if buffer:
        raise ValueError("the Dockerfile ends inside a continued line")
    return result
