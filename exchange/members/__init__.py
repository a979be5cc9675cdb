"""Members of the exchange, their users, and the member directory."""
