"""What the CPU can do, as far as choosing an embedding backend is concerned.

Read once at start-up from `/proc/cpuinfo` (Linux, x86 and Arm) or `sysctl` (macOS). Two
answers matter: whether the CPU computes bf16 natively (otherwise torch emulates it and bf16 is
several times *slower* than fp32), and which int8 kernel family onnxruntime will use, which
decides how the int8 ONNX model is quantized.

    >>> info = detect_cpu()                          # doctest: +SKIP
    >>> info.model, info.cores, info.native_bf16, info.int8_target
    ('AMD EPYC', 2, False, 'avx2')
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["INT8_TARGETS", "CpuInfo", "detect_cpu"]

#: int8 kernel families, best first; `CpuInfo.int8_target` is the first one the CPU has.
INT8_TARGETS = ("avx512_vnni", "avx512", "avx2", "arm64")

# The flags that change which kernels run; the fingerprint ignores the rest.
_RELEVANT = (
    "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
    "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile", "avx512_fp16",
    "asimd", "asimddp", "bf16", "i8mm", "sve", "sve2",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CpuInfo:
    model: str
    arch: str  # platform.machine(), lower case: x86_64, aarch64, arm64
    cores: int
    flags: frozenset[str]

    @property
    def is_arm(self) -> bool:
        return self.arch in ("aarch64", "arm64")

    @property
    def native_bf16(self) -> bool:
        """bf16 matrix maths in hardware: AVX512-BF16 or AMX on x86, the BF16 extension on Arm."""
        if self.is_arm:
            return "bf16" in self.flags
        return bool(self.flags & {"avx512_bf16", "amx_bf16"})

    @property
    def int8_target(self) -> str | None:
        """The best int8 kernel family of this CPU (`INT8_TARGETS`), or None (no fast int8)."""
        if self.is_arm:
            return "arm64"
        if self.flags & {"avx512_vnni", "avx_vnni", "amx_int8"}:
            return "avx512_vnni"
        if {"avx512f", "avx512bw"} <= self.flags:
            return "avx512"
        if "avx2" in self.flags:
            return "avx2"
        return None

    @property
    def relevant_flags(self) -> list[str]:
        return sorted(self.flags & set(_RELEVANT))

    def fingerprint(self) -> str:
        """Short stable id of the model, core count and relevant flags (a cache key part)."""
        text = f"{self.model}|{self.arch}|{self.cores}|{','.join(self.relevant_flags)}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        return f"{self.model} ({self.arch}, {self.cores} cores; {' '.join(self.relevant_flags)})"


def detect_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    arch = platform.machine().lower() or "unknown"
    cores = os.cpu_count() or 1
    text = ""
    with contextlib.suppress(OSError):
        text = cpuinfo.read_text(errors="replace")
    if text:
        return parse_cpuinfo(text, arch=arch, cores=cores)
    if platform.system() == "Darwin":
        return _darwin(arch, cores)
    return CpuInfo(platform.processor() or arch, arch, cores, frozenset())


def parse_cpuinfo(text: str, *, arch: str, cores: int) -> CpuInfo:
    """A `CpuInfo` from the text of `/proc/cpuinfo` (the first processor's block)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    flags = fields.get("flags") or fields.get("features") or ""
    model = (
        fields.get("model name")
        or fields.get("hardware")
        or (f"Arm part {fields['cpu part']}" if "cpu part" in fields else "")
        or platform.processor()
        or arch
    )
    return CpuInfo(model, arch, cores, frozenset(flags.lower().split()))


def _darwin(arch: str, cores: int) -> CpuInfo:  # pragma: no cover - macOS only
    def sysctl(name: str) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            return subprocess.run(
                ["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False
            ).stdout.strip()
        return ""

    flags = {"asimd"}
    if sysctl("hw.optional.arm.FEAT_BF16") == "1":
        flags.add("bf16")
    if sysctl("hw.optional.arm.FEAT_I8MM") == "1":
        flags.add("i8mm")
    return CpuInfo(sysctl("machdep.cpu.brand_string") or arch, arch, cores, frozenset(flags))
