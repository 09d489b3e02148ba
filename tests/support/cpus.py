"""The CPU kinds ragis runs on, as `/proc/cpuinfo` describes them.

The embedding backends on offer and the int8 recipe depend on the CPU, and the machines that
run ragis's checks differ in exactly this (AVX2 only, AVX-512 VNNI, native bf16, AMX, Arm).
Tests inject these descriptions so that every machine exercises what every other one would:
an AVX2 machine loads the bf16 backend (emulated by torch, slow but correct) and the int8 models
of every recipe; the auto choice runs once per kind.
"""

from __future__ import annotations

from ragis.embedding.cpu import CpuInfo, parse_cpuinfo

__all__ = ["CPU_KINDS", "cpu_kind"]

_CPUINFO = {
    # AVX2 without VNNI or bf16: the machine of the first benchmark report.
    "avx2": (
        "x86_64",
        "model name\t: AMD EPYC 7B13\n"
        "flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2\n",
    ),
    # AVX-512 without VNNI (Intel Skylake-SP): the reduced-range int8 recipe.
    "avx512": (
        "x86_64",
        "model name\t: Intel(R) Xeon(R) Gold 6148\n"
        "flags\t\t: avx avx2 fma f16c avx512f avx512bw avx512vl avx512cd\n",
    ),
    # AVX-512 with VNNI, no bf16 (Intel Ice Lake).
    "avx512_vnni": (
        "x86_64",
        "model name\t: Intel(R) Xeon(R) Platinum 8375C\n"
        "flags\t\t: avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_vbmi2\n",
    ),
    # AVX-512 VNNI and native bf16 (AMD Zen 4): the machine where the bf16 norm bug showed.
    "avx512_bf16": (
        "x86_64",
        "model name\t: AMD EPYC 9B14\n"
        "flags\t\t: avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16\n",
    ),
    # AMX (Intel Sapphire Rapids): bf16 and int8 tiles.
    "amx": (
        "x86_64",
        "model name\t: Intel(R) Xeon(R) Platinum 8481C\n"
        "flags\t\t: avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 "
        "amx_int8 amx_tile\n",
    ),
    # Arm with the BF16 and I8MM extensions (AWS Graviton3).
    "arm": (
        "aarch64",
        "processor\t: 0\nFeatures\t: fp asimd asimddp bf16 i8mm sve\nCPU part\t: 0xd40\n",
    ),
}

CPU_KINDS = tuple(_CPUINFO)


def cpu_kind(kind: str, cores: int = 2) -> CpuInfo:
    """The `CpuInfo` of one kind of `CPU_KINDS`."""
    arch, text = _CPUINFO[kind]
    return parse_cpuinfo(text, arch=arch, cores=cores)
