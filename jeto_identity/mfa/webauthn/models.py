from __future__ import annotations

from django.db import models
from django_otp.models import Device, TimestampMixin


class WebAuthnDevice(TimestampMixin, Device):
    """One registered WebAuthn credential (a passkey or a security key) of one user.

    Only public material is stored: the credential ID and its COSE public key. ``sign_count`` is the last
    signature counter the authenticator reported (0 for authenticators that keep none, as synced passkeys do).
    Verification runs through ``webauthn.services``, never ``verify_token`` (there is no typed token).
    """

    credential_id = models.CharField(max_length=1400, unique=True, help_text="base64url, as the browser sends it")
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    discoverable = models.BooleanField(default=False, help_text="A passkey the browser can offer without an email.")
    backed_up = models.BooleanField(default=False, help_text="Synced to the user's cloud account (a passkey).")
    clone_warning = models.BooleanField(
        default=False, help_text="Its signature counter went backwards once: a possible cloned authenticator."
    )

    class Meta:
        verbose_name = "passkey"
        ordering = ["created_at", "pk"]

    def verify_token(self, token: str) -> bool:
        return False  # WebAuthn has no typed token; see jeto_identity.mfa.webauthn.services

    @property
    def kind(self) -> str:
        return "passkey" if self.discoverable or self.backed_up else "security key"
