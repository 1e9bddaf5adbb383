"""Starting, stopping and checking the course's local services."""
