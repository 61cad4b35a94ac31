"""The Jeto API: what an application connection calls with its client-credentials token."""
