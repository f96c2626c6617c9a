"""`trimtab demo`: the production policy over the shipped history through the real executor."""
