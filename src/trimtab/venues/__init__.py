"""Venues: the places where assets live. Each adapter speaks the same small protocol."""
