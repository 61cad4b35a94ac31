"""A host project that misses a piece of the installation gets a system-check error naming it, not a silent gap.

Each test starts from the portal's settings (which pass every check) and removes or changes one thing.
"""

from __future__ import annotations

import warnings

import pytest
from django.contrib import admin
from django.core.checks import run_checks
from django.urls import include, path
from oauth2_provider import views as dot_views

from jeto_identity.conf import jeto_settings
from jeto_identity.core import checks as core_checks
from jeto_identity.core.middleware import AuditContextMiddleware
from jeto_identity.provider import checks as provider_checks
from jeto_identity.provider.settings import oauth2_provider_settings
from jeto_identity.throttle import checks as throttle_checks


def ids(messages) -> set[str]:
    return {m.id for m in messages}


def test_the_portal_passes_every_check():
    assert [m for m in run_checks(include_deployment_checks=False) if m.id.startswith("jeto_identity.")] == []


# --- core: middleware, password policy, admin sign-in ------------------------------------------------------


@pytest.mark.parametrize(
    ("middleware", "check_id"),
    [
        ("jeto_identity.core.middleware.AuditContextMiddleware", "jeto_identity.E013"),
        ("jeto_identity.core.middleware.ServiceUnavailableMiddleware", "jeto_identity.E014"),
    ],
)
def test_missing_core_middleware(settings, middleware, check_id):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != middleware]
    assert check_id in ids(core_checks.check_installation(None))


def test_djangos_default_password_length_is_below_the_documented_minimum(settings):
    # What `startproject` writes: Django's validators, minimum length 8.
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]
    assert ids(core_checks.check_password_policy(None)) == {"jeto_identity.E015", "jeto_identity.W011"}
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "jeto_identity.core.password_validation.MinimumLengthValidator"},
        {"NAME": "jeto_identity.core.password_validation.MaximumLengthValidator"},
    ]
    assert core_checks.check_password_policy(None) == []
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "PASSWORD_MIN_LENGTH": 16}
    assert core_checks.check_password_policy(None) == []  # the app's validator follows the setting
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
        {"NAME": "jeto_identity.core.password_validation.MaximumLengthValidator"},
    ]
    assert ids(core_checks.check_password_policy(None)) == {"jeto_identity.E015"}  # 12 < 16


def test_missing_django_otp_middleware(settings):
    from jeto_identity.mfa import checks as mfa_checks

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "django_otp.middleware.OTPMiddleware"]
    assert ids(mfa_checks.check_mfa_middleware(None)) == {"jeto_identity.E203"}


class AdminWithoutOurLogin:
    urlpatterns = [path("admin/", admin.site.urls), path("", include("jeto_identity.provider.urls"))]


def test_admin_sign_in_outside_the_pipeline(settings):
    assert core_checks.check_admin_login(None) == []
    settings.ROOT_URLCONF = AdminWithoutOurLogin
    assert ids(core_checks.check_admin_login(None)) == {"jeto_identity.E007"}


# --- the OpenID Provider: DOT settings and URLs ------------------------------------------------------------


def _provider(settings, **changes):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **changes}
    return ids(provider_checks.check_openid_provider(None))


def test_oidc_off_is_an_error_not_silence(settings):
    settings.OAUTH2_PROVIDER = {}  # what a host without the helper has: DOT's defaults
    assert ids(provider_checks.check_openid_provider(None)) == {"jeto_identity.E304"}


def test_djangos_oauth_toolkit_server_or_validator_instead_of_ours(settings):
    assert _provider(settings, OIDC_SERVER_CLASS="oauthlib.openid.Server") == {"jeto_identity.E305"}
    assert _provider(
        settings,
        OIDC_SERVER_CLASS="jeto_identity.provider.server.JetoServer",
        OAUTH2_VALIDATOR_CLASS="oauth2_provider.oauth2_validators.OAuth2Validator",
    ) == {"jeto_identity.E306"}


def test_subclasses_of_our_server_and_validator_are_fine(settings):
    assert (
        _provider(
            settings,
            OIDC_SERVER_CLASS="tests.identity.test_install_checks.MyServer",
            OAUTH2_VALIDATOR_CLASS="tests.identity.test_install_checks.MyValidator",
        )
        == set()
    )


def test_scopes_without_openid_or_without_our_claims(settings):
    assert _provider(settings, SCOPES={"read": "r", "write": "w"}, DEFAULT_SCOPES=["read"]) == {"jeto_identity.E307"}
    assert _provider(settings, SCOPES={"openid": "o"}, DEFAULT_SCOPES=["openid"]) == {"jeto_identity.W302"}


def test_missing_signing_key(settings):
    assert _provider(settings, OIDC_RSA_PRIVATE_KEY="") == {"jeto_identity.E301"}


def test_the_helper_passes_the_provider_checks(settings):
    settings.OAUTH2_PROVIDER = oauth2_provider_settings(
        issuer=settings.JETO_IDENTITY["ISSUER"], signing_key=settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    )
    assert provider_checks.check_openid_provider(None) == []


class NoProviderUrls:
    urlpatterns = [path("", include("jeto_identity.urls"))]


class DotsOwnUrls:
    urlpatterns = [path("o/", include("oauth2_provider.urls")), path("", include("jeto_identity.urls"))]


class DiscoveryUnderAPath:
    urlpatterns = [path("id/", include("jeto_identity.provider.urls"))]


class DotsDiscoveryFirst:
    urlpatterns = [
        path(".well-known/openid-configuration", dot_views.ConnectDiscoveryInfoView.as_view()),
        path("", include("jeto_identity.provider.urls")),
    ]


@pytest.mark.parametrize(
    ("urlconf", "says"),
    [
        (NoProviderUrls, "authorize (not mounted)"),
        (DotsOwnUrls, "authorize (answered by oauth2_provider.views.base.AuthorizationView)"),
        (DiscoveryUnderAPath, "at /id/.well-known/openid-configuration"),
        (DotsDiscoveryFirst, "oidc-connect-discovery-info (answered by oauth2_provider"),
    ],
    ids=["not-mounted", "dot-urls", "under-a-path", "shadowed"],
)
def test_provider_urls_must_be_ours_at_the_root(settings, urlconf, says):
    assert provider_checks.check_provider_urls(None) == []
    settings.ROOT_URLCONF = urlconf
    (message,) = provider_checks.check_provider_urls(None)
    assert message.id == "jeto_identity.E308" and says in message.msg


# --- brute-force protection (django-axes) ------------------------------------------------------------------


def test_without_axes_a_warning(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "axes"]
    assert ids(throttle_checks.check_brute_force_protection(None)) == {"jeto_identity.W501"}


def test_axes_installed_but_its_backend_or_middleware_missing(settings):
    assert throttle_checks.check_brute_force_protection(None) == []
    settings.AUTHENTICATION_BACKENDS = [b for b in settings.AUTHENTICATION_BACKENDS if not b.startswith("axes.")]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("axes.")]
    assert ids(throttle_checks.check_brute_force_protection(None)) == {"jeto_identity.E501", "jeto_identity.E502"}


def test_axes_defaults_that_break_jetos_throttling(settings):
    # axes' own defaults (axes.conf): the 'username' form field, which our forms don't post
    settings.AXES_USERNAME_CALLABLE = None
    settings.AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # only the pair, never each alone
    settings.AXES_CLIENT_IP_CALLABLE = None
    assert ids(throttle_checks.check_brute_force_protection(None)) == {
        "jeto_identity.E503",
        "jeto_identity.E504",
        "jeto_identity.W502",
    }
    settings.AXES_USERNAME_CALLABLE = "jeto_identity.throttle.services.axes_username"
    settings.AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
    settings.AXES_CLIENT_IP_CALLABLE = "jeto_identity.core.net.client_ip"
    assert throttle_checks.check_brute_force_protection(None) == []


from jeto_identity.provider.server import JetoServer  # noqa: E402  (subclasses for the import-string tests)
from jeto_identity.provider.validators import JetoOAuth2Validator  # noqa: E402


class MyServer(JetoServer):
    pass


class MyValidator(JetoOAuth2Validator):
    pass


# --- old dotted paths and subclasses count as the entry they name -------------------------------------------

OLD_PATHS = {
    "jeto_identity.core.middleware.AuditContextMiddleware": "jeto_identity.middleware.AuditContextMiddleware",
    "jeto_identity.core.middleware.ServiceUnavailableMiddleware": (
        "jeto_identity.middleware.ServiceUnavailableMiddleware"
    ),
    "jeto_identity.mfa.middleware.MFAPolicyMiddleware": "jeto_identity.mfa_middleware.MFAPolicyMiddleware",
    "jeto_identity.sso.oidc.backend.OrganizationOIDCBackend": "jeto_identity.sso.backend.OrganizationOIDCBackend",
    "jeto_identity.core.hashers.OwaspArgon2PasswordHasher": "jeto_identity.hashers.OwaspArgon2PasswordHasher",
    "jeto_identity.core.hashers.ClientSecretHasher": "jeto_identity.hashers.ClientSecretHasher",
    "jeto_identity.core.password_validation.MaximumLengthValidator": (
        "jeto_identity.password_validation.MaximumLengthValidator"
    ),
    "jeto_identity.throttle.services.axes_username": "jeto_identity.services.throttle.axes_username",
    "jeto_identity.core.net.client_ip": "jeto_identity.net.client_ip",
    "jeto_identity.mfa.stage.login_stage": "jeto_identity.services.mfa_login.login_stage",
    "jeto_identity.sso.services.link_confirmation_stage": "jeto_identity.services.sso.link_confirmation_stage",
}


def _old(path):
    return OLD_PATHS.get(path, path)


@pytest.fixture
def old_paths(settings):
    """A host that still names every moved class and function by its old dotted path."""
    settings.MIDDLEWARE = [_old(m) for m in settings.MIDDLEWARE]
    settings.AUTHENTICATION_BACKENDS = [_old(b) for b in settings.AUTHENTICATION_BACKENDS]
    settings.PASSWORD_HASHERS = [_old(h) for h in settings.PASSWORD_HASHERS]
    settings.AUTH_PASSWORD_VALIDATORS = [{**v, "NAME": _old(v["NAME"])} for v in settings.AUTH_PASSWORD_VALIDATORS]
    settings.AXES_USERNAME_CALLABLE = _old(settings.AXES_USERNAME_CALLABLE)
    settings.AXES_CLIENT_IP_CALLABLE = _old(settings.AXES_CLIENT_IP_CALLABLE)
    stages = settings.JETO_IDENTITY.get("LOGIN_STAGES", jeto_settings.LOGIN_STAGES)
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "LOGIN_STAGES": [_old(s) for s in stages]}
    assert set(OLD_PATHS.values()) <= {
        *settings.MIDDLEWARE,
        *settings.AUTHENTICATION_BACKENDS,
        *settings.PASSWORD_HASHERS,
        *(v["NAME"] for v in settings.AUTH_PASSWORD_VALIDATORS),
        settings.AXES_USERNAME_CALLABLE,
        settings.AXES_CLIENT_IP_CALLABLE,
        *settings.JETO_IDENTITY["LOGIN_STAGES"],
    }, "the portal's settings name each path this test renames"
    return settings


def test_old_dotted_paths_pass_every_check(old_paths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the aliases warn: that is their job
        messages = run_checks(include_deployment_checks=False)
    assert [m for m in messages if m.id.startswith("jeto_identity.")] == []


def test_order_checks_see_an_entry_under_its_old_path(old_paths):
    from jeto_identity.mfa import checks as mfa_checks

    middleware = [m for m in old_paths.MIDDLEWARE if m != _old("jeto_identity.mfa.middleware.MFAPolicyMiddleware")]
    otp = middleware.index("django_otp.middleware.OTPMiddleware")
    old_paths.MIDDLEWARE = [
        *middleware[:otp],
        _old("jeto_identity.mfa.middleware.MFAPolicyMiddleware"),
        *middleware[otp:],
    ]
    assert ids(mfa_checks.check_mfa_middleware(None)) == {"jeto_identity.E203"}  # found, and before OTPMiddleware


class MyAuditMiddleware(AuditContextMiddleware):
    pass


def test_a_subclass_of_a_middleware_counts_as_it(settings):
    audit = "jeto_identity.core.middleware.AuditContextMiddleware"
    settings.MIDDLEWARE = [
        "tests.identity.test_install_checks.MyAuditMiddleware" if m == audit else m for m in settings.MIDDLEWARE
    ]
    assert core_checks.check_installation(None) == []


# --- the order of the sign-in stages ------------------------------------------------------------------------

MFA_STAGE = "jeto_identity.mfa.stage.login_stage"
LINK_STAGE = "jeto_identity.sso.services.link_confirmation_stage"


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        ([MFA_STAGE, LINK_STAGE], set()),
        ([MFA_STAGE], set()),
        ([], set()),
        ([LINK_STAGE, MFA_STAGE], {"jeto_identity.E016"}),
        ([LINK_STAGE], {"jeto_identity.E016"}),
        ([_old(LINK_STAGE), _old(MFA_STAGE)], {"jeto_identity.E016"}),
        ([_old(MFA_STAGE), _old(LINK_STAGE)], set()),
    ],
)
def test_the_sso_link_stage_comes_after_the_mfa_stage(settings, stages, expected):
    settings.JETO_IDENTITY = {**settings.JETO_IDENTITY, "LOGIN_STAGES": stages}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert ids(core_checks.check_login_stages(None)) == expected
