import pytest

from jeto_identity.core.redirects import safe_next_url


@pytest.mark.parametrize(
    "candidate",
    [
        "//evil.example",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "https:evil.example",
        "https://evil.example/",
        "http://testserver/account/",
        "javascript:alert(1)",
        "/\tevil",
        "/\n/evil.example",
        " //evil.example",
        "evil.example",
        "",
        None,
        "/" + "a" * 3000,
    ],
)
def test_unsafe_next_falls_back_to_default(candidate):
    assert safe_next_url(candidate, "/account/") == "/account/"


@pytest.mark.parametrize("candidate", ["/account/", "/o/authorize/?client_id=x&state=y", "/admin/"])
def test_local_paths_are_kept(candidate):
    assert safe_next_url(candidate, "/account/") == candidate
