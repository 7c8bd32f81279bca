import logging

import pytest

from reconciler.errors import SettingsError
from reconciler.settings import (
    DEFAULT_BASE_URI,
    MISSING_TOKEN,
    LaunchDarklySettings,
    check_base_uri,
    resolve_settings,
    sandbox_settings,
)

CANARY = "api-canary-0c7d5e1f-2b8a"


def test_defaults_with_a_token_only() -> None:
    settings = resolve_settings(None, None, {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY})
    assert settings.base_uri == DEFAULT_BASE_URI
    assert settings.token == CANARY
    assert (settings.beta_api_version, settings.api_version) == ("beta", "20240415")
    assert (settings.concurrency, settings.max_retries) == (8, 8)


def test_flags_win_over_the_environment() -> None:
    environ = {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY, "LAUNCHDARKLY_BASE_URI": "https://env.test"}
    assert resolve_settings(None, None, environ).base_uri == "https://env.test"
    settings = resolve_settings("https://flag.test/", 3, environ)
    assert settings.base_uri == "https://flag.test"
    assert settings.concurrency == 3


def test_launchdarkly_access_token_wins_over_ld_access_token() -> None:
    both = {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY, "LD_ACCESS_TOKEN": "other"}
    assert resolve_settings(None, None, both).token == CANARY
    assert resolve_settings(None, None, {"LD_ACCESS_TOKEN": CANARY}).token == CANARY


@pytest.mark.parametrize("environ", [{}, {"LAUNCHDARKLY_ACCESS_TOKEN": "  "}])
def test_missing_token_is_one_actionable_line(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as error:
        resolve_settings(None, None, environ)
    assert str(error.value) == (
        "LaunchDarkly access token missing: set LAUNCHDARKLY_ACCESS_TOKEN (or LD_ACCESS_TOKEN)"
    )
    assert str(error.value) == MISSING_TOKEN


def test_token_with_control_characters_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as error:
        resolve_settings(None, None, {"LD_ACCESS_TOKEN": f"{CANARY}\nX-Evil: 1"})
    assert CANARY not in str(error.value)
    assert "LD_ACCESS_TOKEN" in str(error.value)


def test_token_never_in_repr_or_str() -> None:
    settings = resolve_settings(None, None, {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY})
    assert CANARY not in repr(settings)
    assert CANARY not in str(settings)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.launchdarkly.com",
        "https://app.eu.launchdarkly.com/",
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "http://[::1]:9000",
        "http://localhost:8080",
        "http://LOCALHOST",
    ],
)
def test_https_or_loopback_http_is_accepted(uri: str) -> None:
    assert check_base_uri(uri) == uri.rstrip("/")


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.launchdarkly.com",
        "http://10.0.0.1:8080",
        "http://localhost.evil.test",
        "http://128.0.0.1",
        "ftp://app.launchdarkly.com",
        "app.launchdarkly.com",
        "https://",
    ],
)
def test_other_base_uris_are_refused(uri: str) -> None:
    with pytest.raises(SettingsError):
        resolve_settings(uri, None, {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY})


def test_refusal_does_not_echo_credentials_in_the_uri() -> None:
    with pytest.raises(SettingsError) as error:
        check_base_uri("http://user:s3cret-pass@ld.example.com")
    assert "s3cret-pass" not in str(error.value)
    assert "ld.example.com" in str(error.value)


def test_api_versions_are_configurable_from_the_environment() -> None:
    environ = {
        "LAUNCHDARKLY_ACCESS_TOKEN": CANARY,
        "LAUNCHDARKLY_API_VERSION": "20250101",
        "LAUNCHDARKLY_BETA_API_VERSION": "20240415",
    }
    settings = resolve_settings(None, None, environ)
    assert (settings.api_version, settings.beta_api_version) == ("20250101", "20240415")


@pytest.mark.parametrize(
    "options",
    [
        {"concurrency": 0},
        {"timeout_seconds": 0},
        {"max_retries": -1},
        {"beta_api_version": "beta,20240415"},
        {"api_version": ""},
    ],
)
def test_invalid_values_are_settings_errors(options: dict) -> None:
    with pytest.raises(SettingsError):
        LaunchDarklySettings(token=CANARY, **options)


def test_settings_without_a_token_are_refused() -> None:
    with pytest.raises(SettingsError, match="access token missing"):
        LaunchDarklySettings(token="")


def test_sandbox_settings_need_no_token() -> None:
    assert sandbox_settings(None).base_uri == "http://sandbox"
    assert sandbox_settings(None).token == "sandbox"
    assert sandbox_settings(None).concurrency == 8
    assert sandbox_settings(2).concurrency == 2


# --- the base URI's path, and where each setting came from ---------------------------


@pytest.mark.parametrize("uri", ["https://app.launchdarkly.com/api/v2",
                                 "https://app.launchdarkly.com/api/v2/"])
def test_a_trailing_api_v2_is_dropped_with_a_warning(
        uri: str, caplog: pytest.LogCaptureFixture) -> None:
    environ = {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY, "LAUNCHDARKLY_BASE_URI": uri}
    with caplog.at_level(logging.WARNING, logger="reconciler"):
        settings = resolve_settings(None, None, environ)
    assert settings.base_uri == "https://app.launchdarkly.com"
    assert [r.getMessage() for r in caplog.records] == [
        "LAUNCHDARKLY_BASE_URI ends in /api/v2, which reconciler adds to every route itself: "
        "using https://app.launchdarkly.com"]


@pytest.mark.parametrize("uri", ["https://ld.example.com/api", "https://ld.example.com/api/v2/x",
                                 "https://ld.example.com/launchdarkly"])
def test_any_other_path_in_the_base_uri_is_refused(uri: str) -> None:
    with pytest.raises(SettingsError) as error:
        resolve_settings(uri, None, {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY})
    assert str(error.value).startswith("--base-uri must be scheme://host[:port] with no path, "
                                       "got the path '/")


def test_the_settings_that_chose_the_uri_and_the_token_are_remembered() -> None:
    environ = {"LD_ACCESS_TOKEN": CANARY, "LAUNCHDARKLY_BASE_URI": "https://env.test"}
    from_env = resolve_settings(None, None, environ)
    assert (from_env.base_uri_source, from_env.token_source) == (
        "LAUNCHDARKLY_BASE_URI", "LD_ACCESS_TOKEN")
    assert resolve_settings("https://flag.test", None, environ).base_uri_source == "--base-uri"
    assert resolve_settings(None, None, {"LD_ACCESS_TOKEN": CANARY}).base_uri_source == (
        "the default")


def test_the_wait_cap_comes_from_reconciler_max_wait() -> None:
    environ = {"LAUNCHDARKLY_ACCESS_TOKEN": CANARY}
    assert resolve_settings(None, None, environ).max_wait_seconds == 60
    environ["RECONCILER_MAX_WAIT"] = "15"
    assert resolve_settings(None, None, environ).max_wait_seconds == 15
    environ["RECONCILER_MAX_WAIT"] = "0.5"
    with pytest.raises(SettingsError, match=r"from 1 to 3600, got '0\.5'"):
        resolve_settings(None, None, environ)


@pytest.mark.parametrize("uri", ["http://[::1", "https://h:99999", "https://h:abc",
                                 "https://h:0", "https://a..b", "https://ünï.test",
                                 "https://h\u202e", "https://u:p@h", "https://h?x=1"])
def test_unusable_uris_are_settings_errors_not_crashes(uri: str) -> None:
    with pytest.raises(SettingsError):
        check_base_uri(uri)


def test_a_non_ascii_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as error:
        resolve_settings(None, None, {"LAUNCHDARKLY_ACCESS_TOKEN": f"{CANARY}é"})
    assert CANARY not in str(error.value)
    assert str(error.value).startswith("LAUNCHDARKLY_ACCESS_TOKEN contains a character that "
                                       "cannot be sent in an HTTP header")
