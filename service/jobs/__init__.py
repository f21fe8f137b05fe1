"""Background work on a Postgres job queue (pgqueuer): `queue.py` enqueues inside the caller's
transaction; `worker.py` runs the entrypoints and periodic jobs (`ingrain worker`, or in-process
under `ingrain serve`)."""
