"""``ENGINE = "jeto_identity.contrib.fastpaths.postgresql"``: see ``base``."""
