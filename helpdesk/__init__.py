"""Help desk and field service system."""
