"""The demo provider: a year of Riverside Care's delivery, generated deterministically and loaded
through the same ingestion code the API uses."""
