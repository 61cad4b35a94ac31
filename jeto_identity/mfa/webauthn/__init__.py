"""Passkeys and security keys (WebAuthn) as django-otp devices, verified with Duo's py_webauthn."""
