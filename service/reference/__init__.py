"""Plumbing shared by the reference data areas (services, staff, people, innovations)."""
