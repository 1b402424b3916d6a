"""Every setting is declared once with a description, and secrets are masked."""

from kumo.common.config import Settings


def test_every_setting_has_a_description() -> None:
    undocumented = [
        name
        for name, field in Settings.model_fields.items()
        if not (field.description and len(field.description) > 10)
    ]
    assert not undocumented


def test_secrets_are_masked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KUMO_ADMIN_PASSWORD", "hunter2")
    monkeypatch.setenv("KUMO_TRANSPORT_URL", "amqp://guest:guestpw@127.0.0.1:5672/")
    shown = str(Settings().masked())
    assert "hunter2" not in shown and "guestpw" not in shown
    assert "amqp://guest:********@127.0.0.1:5672/" in shown


def test_toml_file_and_environment(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "kumo.toml"
    config.write_text('port = 9999\nregion = "Elsewhere"\n')
    monkeypatch.setenv("KUMO_CONFIG", str(config))
    monkeypatch.setenv("KUMO_REGION", "FromEnv")
    settings = Settings()
    assert settings.port == 9999
    assert settings.region == "FromEnv"
