"""The shop that runs through the course: orders, inventory, payments, shipping, notifications."""
