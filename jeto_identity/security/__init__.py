"""The account security page: a person's factors, sessions across devices, connected applications, recent
security activity, and security mail with a "this wasn't me" path."""
