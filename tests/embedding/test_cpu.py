"""CPU feature detection: what decides bf16 and the int8 recipe."""

from __future__ import annotations

from ragis.embedding.cpu import detect_cpu, parse_cpuinfo

EPYC = """processor	: 0
vendor_id	: AuthenticAMD
model name	: AMD EPYC 7B13
flags		: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2

processor	: 1
model name	: ignored
"""
SAPPHIRE_RAPIDS = """model name	: Intel(R) Xeon(R) Platinum 8481C
flags		: avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 amx_int8
"""
SKYLAKE_SP = "model name : Intel(R) Xeon(R) Gold 6148\nflags : avx avx2 avx512f avx512bw avx512vl\n"
GRAVITON3 = "processor : 0\nFeatures : fp asimd asimddp bf16 i8mm sve\nCPU part : 0xd40\n"
GRAVITON2 = "processor : 0\nFeatures : fp asimd asimddp\nCPU part : 0xd0c\n"


def test_an_avx2_cpu_has_no_native_bf16_and_gets_the_avx2_int8_recipe() -> None:
    cpu = parse_cpuinfo(EPYC, arch="x86_64", cores=2)
    assert cpu.model == "AMD EPYC 7B13"
    assert not cpu.native_bf16
    assert cpu.int8_target == "avx2"
    assert "avx2" in cpu.relevant_flags
    assert "bmi2" not in cpu.relevant_flags


def test_a_cpu_with_amx_has_native_bf16_and_vnni() -> None:
    cpu = parse_cpuinfo(SAPPHIRE_RAPIDS, arch="x86_64", cores=8)
    assert cpu.native_bf16
    assert cpu.int8_target == "avx512_vnni"


def test_avx512_without_vnni_gets_its_own_recipe() -> None:
    assert parse_cpuinfo(SKYLAKE_SP, arch="x86_64", cores=4).int8_target == "avx512"


def test_arm_bf16_comes_from_the_features_line() -> None:
    assert parse_cpuinfo(GRAVITON3, arch="aarch64", cores=4).native_bf16
    graviton2 = parse_cpuinfo(GRAVITON2, arch="aarch64", cores=4)
    assert not graviton2.native_bf16
    assert graviton2.int8_target == "arm64"
    assert graviton2.model == "Arm part 0xd0c"


def test_an_old_x86_cpu_gets_no_int8_backend() -> None:
    assert parse_cpuinfo("flags : sse sse2 avx\n", arch="x86_64", cores=2).int8_target is None


def test_the_fingerprint_changes_with_the_flags_that_matter_only() -> None:
    a = parse_cpuinfo(EPYC, arch="x86_64", cores=2)
    b = parse_cpuinfo(EPYC.replace("bmi2", "bmi1"), arch="x86_64", cores=2)
    c = parse_cpuinfo(EPYC.replace("avx2", ""), arch="x86_64", cores=2)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_this_machine_is_detected() -> None:
    cpu = detect_cpu()
    assert cpu.cores >= 1
    assert cpu.model
