"""Process-wide settings for serving requests."""

import gc

# Young objects a request may allocate before the collector runs (CPython's default is 700).
YOUNG_GENERATION_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Keep the cyclic collector from rescanning the application on every burst of allocations.

    A batch of touchpoints allocates tens of thousands of short-lived objects (parsed JSON, models,
    rows). With CPython's defaults the collector runs hundreds of times per batch and its older
    generations rescan everything imported at start-up (frameworks, schemas, metadata): measured
    with `make bench-ingest`, ingest ran about 1.3–1.5 times faster and single posts' latency fell
    by a third with this tuning. Objects alive at start-up are frozen out of collection for good;
    garbage is still collected, in larger and rarer passes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 50, 100)
