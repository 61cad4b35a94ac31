from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice


class EncryptedTOTPDevice(TOTPDevice):
    """django-otp's TOTP device with its secret encrypted at rest (see services.totp_keys).

    A proxy: same table, same algorithm, replay protection and throttling; only ``bin_key`` decrypts.
    """

    class Meta:
        proxy = True
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        from jeto_identity.mfa import totp_keys

        return totp_keys.decrypt(self.key, self.user_id)
