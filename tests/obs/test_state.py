"""The observability settings, read and refused like every other, and what `observe` wires."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from ragis.errors import ConfigError
from ragis.obs import observe
from ragis.settings import ServiceSettings


def settings(**values: object) -> ServiceSettings:
    return ServiceSettings.load(_env_file=None, **values)


def test_the_defaults_are_text_logs_metrics_on_and_no_tracing() -> None:
    s = settings()
    assert s.log_format == "text"
    assert s.metrics is True
    assert s.metrics_token is None
    assert s.otel_endpoint is None
    assert s.otel_service_name is None


def test_the_environment_names_and_the_standard_otlp_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGIS_LOG_FORMAT", "json")
    monkeypatch.setenv("RAGIS_METRICS", "off")
    monkeypatch.setenv("RAGIS_METRICS_TOKEN", "scrape-me")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("RAGIS_OTEL_SERVICE_NAME", "ragis-eu")
    s = settings()
    assert (s.log_format, s.metrics, s.otel_endpoint, s.otel_service_name) == (
        "json", False, "http://collector:4318", "ragis-eu",
    )  # fmt: skip
    assert s.metrics_token is not None
    assert s.metrics_token.get_secret_value() == "scrape-me"
    assert "scrape-me" not in repr(s)
    monkeypatch.setenv("RAGIS_OTEL_ENDPOINT", "https://mine:4318")  # ragis's own name wins
    assert settings().otel_endpoint == "https://mine:4318"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RAGIS_LOG_FORMAT", "xml"),
        ("RAGIS_LOG_FORMAT", "JSON\n"),
        ("RAGIS_METRICS", "maybe"),
        ("RAGIS_OTEL_ENDPOINT", "collector:4318"),
        ("RAGIS_OTEL_ENDPOINT", "file:///etc/passwd"),
        ("RAGIS_OTEL_ENDPOINT", "grpc://collector:4317"),
    ],
)
def test_a_bad_value_is_refused_with_a_sentence_naming_the_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(**{variable: value})


def test_blank_values_mean_unset() -> None:
    s = settings(RAGIS_METRICS_TOKEN="", RAGIS_OTEL_ENDPOINT="  ", RAGIS_OTEL_SERVICE_NAME="")
    assert (s.metrics_token, s.otel_endpoint, s.otel_service_name) == (None, None, None)


def test_the_metrics_token_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "metrics_token"
    secret.write_text("from-a-file\n")
    s = settings(RAGIS_METRICS_TOKEN_FILE=str(secret))
    assert s.metrics_token is not None
    assert s.metrics_token.get_secret_value() == "from-a-file"
    with pytest.raises(ConfigError, match="both set"):
        settings(RAGIS_METRICS_TOKEN_FILE=str(secret), RAGIS_METRICS_TOKEN="x")
    with pytest.raises(ConfigError, match="cannot read"):
        settings(RAGIS_METRICS_TOKEN_FILE=str(tmp_path / "missing"))


def test_observe_keeps_each_apps_registry_and_the_metrics_route_first() -> None:
    one, two = FastAPI(), FastAPI()

    @one.get("/{anything:path}")
    async def catch_all() -> dict[str, str]:
        return {}

    first = observe(one, "gateway", settings())
    second = observe(two, "rag", settings())
    assert first.metrics is not None
    assert second.metrics is not None
    assert first.metrics.registry is not second.metrics.registry
    assert one.state.metrics is first.metrics
    assert one.state.log_format == "text"
    assert one.router.routes[0].path == "/metrics"  # type: ignore[attr-defined]
    off = FastAPI()
    assert observe(off, "rag", settings(RAGIS_METRICS="off")).metrics is None
    assert all(getattr(r, "path", "") != "/metrics" for r in off.router.routes)


def test_every_observability_setting_is_documented() -> None:
    repo = Path(__file__).parents[2]
    rows = [ln for ln in (repo / "README.md").read_text().splitlines() if ln.startswith("| `")]
    operations = (repo / "docs" / "operations.md").read_text()
    for name in (
        "RAGIS_LOG_FORMAT", "RAGIS_METRICS", "RAGIS_METRICS_TOKEN", "RAGIS_OTEL_ENDPOINT",
        "RAGIS_OTEL_SERVICE_NAME",
    ):  # fmt: skip
        assert any(row.startswith(f"| `{name}` |") for row in rows), name
        assert f"| `{name}` |" in operations, name
    assert "RAGIS_METRICS_TOKEN_FILE" in operations
