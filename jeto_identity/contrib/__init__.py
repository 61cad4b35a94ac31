"""Optional add-ons to Jeto Identity. Nothing outside ``contrib`` imports them."""
