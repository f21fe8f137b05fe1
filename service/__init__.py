"""Ingrain: evidence that an innovation in adult social care has become routine practice."""
