"""The Jeto portal: admin site customisation, the example Jeto API, demo data."""
