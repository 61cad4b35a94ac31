"""Password hashers with the parameters we stand behind."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with the OWASP Password Storage Cheat Sheet's first option: m=19 MiB, t=2, p=1.

    The algorithm name stays ``argon2`` so hashes made with other parameters are upgraded at the next login.
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
