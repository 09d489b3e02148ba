"""Hostile uploads: what the gateway's own memory does while the bombs of issue 12 are uploaded.

The gateway runs as its own process (`python -m ragis.gateway`, as `ragis up` runs it) with its
default parse limits, and no RAG service behind it: every one of these files is refused while
it is parsed, before the gateway would call the RAG service. Its resident memory is read from
`/proc/<pid>/status`: VmHWM (the peak, reset through `/proc/<pid>/clear_refs` before each case
where the kernel allows it) and VmRSS sampled every 10 ms, against VmRSS at rest after one
ordinary upload. The parsing children are not counted: they are what the limits bound
(RAGIS_PARSE_MEMORY_MB each, RAGIS_PARSE_WORKERS of them).

Run alone with `python -m bench.sections.hostile [--out docs]`: it replaces this section in
docs/benchmarks.md and leaves the rest of the report as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from tests.support.hostile import hostile_files

from bench.context import Context
from bench.report import Goal, Section, Table, replace_section
from ragis.net import free_port
from ragis.process import child_environment

__all__ = ["TITLE", "measure", "run"]

TITLE = "7. Hostile uploads: the gateway's memory"  # as in bench.__main__.TITLES
GOAL_MB = 150.0


def run(ctx: Context) -> Section:
    return _section(measure(quick=ctx.quick))


def measure(*, quick: bool = False) -> list[dict[str, object]]:
    """One row per case: the files, their answers, wall time, the gateway's peak above rest.
    Quick mode leaves out the 60 MiB DOCX (half a minute of CPU per upload)."""
    files = hostile_files()
    big = "empty-elements.docx"
    cases: list[tuple[str, list[str]]] = [(n, [n]) for n in files if not (quick and n == big)]
    if not quick:
        cases.append(("two 60 MiB DOCX at once", [big, big]))
        cases.append(("all five at once", list(files)))
    with _gateway() as (url, pid):
        load_before = os.getloadavg()[0]
        with httpx.Client(base_url=url, timeout=600) as client:
            client.post("/api/documents/upload", files=[("file", ("warm.txt", b"Warm up."))])
        time.sleep(1.0)
        rest = _status(pid)["VmRSS"]
        rows: list[dict[str, object]] = []
        for label, names in cases:
            _reset_peak(pid)
            with _sampled(pid) as sampled:
                started = time.perf_counter()
                statuses = asyncio.run(_upload_at_once(url, [(n, files[n]) for n in names]))
                seconds = time.perf_counter() - started
            peak = max(_status(pid)["VmHWM"], sampled[0])
            rows.append(
                {
                    "case": label,
                    "size": sum(len(files[n]) for n in names) // 1024,
                    "answers": ", ".join(str(s) for s in statuses),
                    "seconds": seconds,
                    "rest": rest / 1024,
                    "peak": peak / 1024,
                    "above": (peak - rest) / 1024,
                }
            )
    for row in rows:
        row["load"] = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    return rows


async def _upload_at_once(url: str, files: Sequence[tuple[str, bytes]]) -> list[str]:
    """Upload the files at once, each in its own request; "status code" per file."""
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        responses = await asyncio.gather(
            *(client.post("/api/documents/upload", files=[("file", f)]) for f in files)
        )
    return [f"{r.status_code} {r.json().get('error', {}).get('code', '')}" for r in responses]


@contextmanager
def _gateway() -> Iterator[tuple[str, int]]:
    """`python -m ragis.gateway` on a free port, with no RAG service behind it."""
    port = free_port()
    env = child_environment(
        {
            "RAGIS_GATEWAY_PORT": str(port),
            "RAGIS_RAG_URL": f"http://127.0.0.1:{free_port()}",  # nobody there: not needed
            "RAGIS_STATIC_DIR": "",
            # Sign-in off (loopback), so no Redis; the token of a RAG service never called.
            "RAGIS_AUTH": "off",
            "RAGIS_INTERNAL_TOKEN": secrets.token_urlsafe(32),
        }
    )
    process = subprocess.Popen([sys.executable, "-m", "ragis.gateway"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            try:
                if httpx.get(url + "/api/health", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(30)


def _status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM and the rest of /proc/<pid>/status's memory lines, in KiB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(Vm\w+):\s+(\d+) kB", text, re.M)}


def _reset_peak(pid: int) -> None:
    # 5: reset VmHWM to VmRSS. Where it is not allowed, the 10 ms samples still bound the peak.
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextmanager
def _sampled(pid: int) -> Iterator[list[int]]:
    """The highest VmRSS seen every 10 ms while the block runs (in KiB), in `[0]`."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _status(pid)["VmRSS"])
            done.wait(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def _section(rows: list[dict[str, object]]) -> Section:
    worst = max(float(str(row["above"])) for row in rows)
    return Section(
        "hostile",
        TITLE,
        intro=(
            "Each case uploads the files of issue 12, item 7 (built by `tests/support/hostile.py`)"
            " to a gateway with the default parse limits (2 workers, 1024 MiB, 60 s of CPU, "
            "120 s). The gateway parses nothing itself: each file goes to a forked child with "
            "RLIMIT_AS and RLIMIT_CPU. Memory is the gateway's resident set, in MiB, at its peak"
            " (VmHWM, reset before each case, and 10 ms samples) against its rest after one "
            "ordinary upload. Before the sandbox the 60 MiB DOCX alone took the gateway to "
            "989 MB, two at once to 1.9 GB. The times depend on what else the machine runs "
            f"(load average {rows[0]['load']}): this section measures memory, not speed."
        ),
        tables=[
            Table(
                "The gateway's memory per case (MiB)",
                ["case", "upload KiB", "answers", "seconds", "rest", "peak", "above rest"],
                [
                    [
                        r["case"],
                        r["size"],
                        r["answers"],
                        r["seconds"],
                        r["rest"],
                        r["peak"],
                        r["above"],
                    ]
                    for r in rows
                ],
            )
        ],
        goals=[
            Goal(
                "the gateway's peak memory above rest while bombs are parsed",
                f"< {GOAL_MB:.0f} MB",
                f"{worst:.0f} MiB (worst case)",
                worst < GOAL_MB,
            )
        ],
        notes=[
            "The upload itself is in the gateway's memory (the multipart body, then the file's "
            "bytes sent to the child), and so is the text that comes back: the rest of the peak.",
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sections.hostile")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    section = _section(measure())
    section.seconds = time.perf_counter() - started
    print(replace_section(args.out / "benchmarks.md", section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
