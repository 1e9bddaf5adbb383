"""What the shop sells, at which unit price (cents)."""

PRICES: dict[str, int] = {"mug": 1200, "tee": 2500, "poster": 900}
"""Unit prices in cents of what the shop sells."""
