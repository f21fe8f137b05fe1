"""The sliding window behind the token endpoint's failure limits."""

from service.auth.rate_limit import ClientAuthLimiter, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_blocks_at_the_limit_and_frees_as_the_window_slides() -> None:
    clock = Clock()
    window = SlidingWindow(limit=3, window_seconds=60, clock=clock)
    for _ in range(2):
        window.record("ic_a")
        clock.now += 10
    assert window.retry_after("ic_a") is None
    window.record("ic_a")  # third failure at t=1020
    assert window.retry_after("ic_a") == 40  # the first (t=1000) leaves the window at t=1060
    clock.now = 1060.5
    assert window.retry_after("ic_a") is None
    assert window.retry_after("ic_other") is None


def test_keeps_memory_bounded_under_key_spraying() -> None:
    clock = Clock()
    window = SlidingWindow(limit=2, window_seconds=60, clock=clock, max_keys=100)
    for n in range(1000):
        window.record(f"spray-{n}")
    assert len(window._events) <= 100
    clock.now += 61
    window.record("late")
    assert window.retry_after("spray-999") is None


def test_limiter_blocks_on_either_key() -> None:
    clock = Clock()
    limiter = ClientAuthLimiter(
        per_client=SlidingWindow(limit=2, window_seconds=60, clock=clock),
        per_address=SlidingWindow(limit=3, window_seconds=60, clock=clock),
    )
    limiter.record_failure("ic_a", "10.0.0.1")
    limiter.record_failure("ic_a", "10.0.0.2")
    assert limiter.retry_after("ic_a", "10.0.0.9") is not None  # the client is blocked everywhere
    assert limiter.retry_after("ic_b", "10.0.0.1") is None
    limiter.record_failure("ic_b", "10.0.0.1")
    limiter.record_failure("ic_c", "10.0.0.1")
    assert limiter.retry_after("ic_d", "10.0.0.1") is not None  # the address is blocked for any client
