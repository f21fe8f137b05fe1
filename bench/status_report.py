"""The status benchmark's table and goal checks (issues 5 and 6), every ratio against the same run.

The latency goals on the innovation status (p95 under 100 ms, at most a tenth of the raw
aggregate, at most 1.5 × at 10 × the data) are judged on each request's own time: one client at a
time, as the raw aggregate is timed. From CONCURRENCY clients every latency also includes waiting
behind the others on the one server process (on a 2-core machine, about CONCURRENCY × the service
time); those rows are reported with their throughput and how much of their latency is queueing,
not judged. The raw aggregate's time is its median over the runs: it runs one at a time, and its
slowest run says more about the machine than about the query.
"""

from typing import TYPE_CHECKING

from bench.status_http import CONCURRENCY

if TYPE_CHECKING:
    from bench.status import SizeRun

STATUS = "GET /v1/innovations/{id}/status"
STATUS_SERVICE = "GET /v1/innovations/{id}/status?service_id"
GRAPHQL = "POST /graphql innovationStatus"
LIMIT_MS = 100.0
RAW_SHARE = 0.1
GROWTH = 1.5
GRAPHQL_RATIO = 1.3


def one_client(label: str) -> str:
    return f"{label} (1 client)"


def size_label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return f"{size:,}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _check(ok: bool, text: str) -> bool:
    print(f"  [{'PASS' if ok else 'MISS'}] {text}")
    return ok


def print_load(runs: list["SizeRun"]) -> None:
    print("\nLoad (binary COPY, one transaction per chunk of 20,000; the next chunk generated meanwhile)")
    print(f"  {'touchpoints':<46}" + "".join(f"{size_label(r.size):>16}" for r in runs))
    lines: list[tuple[str, list[str]]] = [
        ("innovation links", [f"{r.loaded.links:,}" for r in runs]),
        ("migrate (s)", [f"{r.migrate_seconds:.1f}" for r in runs]),
        ("reference rows (s)", [f"{r.loaded.reference_seconds:.1f}" for r in runs]),
        (
            f"touchpoints + links, rollups by {runs[0].loaded.rollup_mode} (s)",
            [f"{r.loaded.touchpoint_seconds:.1f}" for r in runs],
        ),
        ("  of which waiting on COPY (s)", [f"{r.loaded.copy_seconds:.1f}" for r in runs]),
        (
            "  touchpoints per second",
            [f"{r.loaded.touchpoints / max(r.loaded.touchpoint_seconds, 1e-9):,.0f}" for r in runs],
        ),
        ("rollups rebuilt (s)", [f"{r.loaded.rebuild_seconds:.1f}" for r in runs]),
        ("rollups checked against raw rows (s)", [f"{r.loaded.check_seconds:.1f}" for r in runs]),
        ("VACUUM ANALYZE (s)", [f"{r.loaded.analyze_seconds:.1f}" for r in runs]),
        (
            "rollup rows: month / staff-month / service",
            [
                f"{r.loaded.rollups['month_rollup_rows']:,}/{r.loaded.rollups['staff_month_rows']:,}"
                f"/{r.loaded.rollups['service_month_rows']:,}"
                for r in runs
            ],
        ),
        ("stage of the innovation timed", [r.stage for r in runs]),
    ]
    for label, values in lines:
        print(f"  {label:<46}" + "".join(f"{v:>16}" for v in values))
    mix = runs[-1].loaded.kinds
    total = sum(mix.values())
    print(
        f"  mix at {size_label(runs[-1].size)}: "
        + ", ".join(f"{k} {n / total:.2%}" for k, n in mix.most_common())
    )


def print_reads(runs: list["SizeRun"]) -> None:
    print(
        f"\nReads (ms; over HTTP as a quality lead from {CONCURRENCY} clients unless marked; "
        "raw aggregate with asyncpg, one at a time)"
    )
    header = "".join(f"{size_label(r.size) + ' p50':>11}{size_label(r.size) + ' p95':>11}" for r in runs)
    growth = "  p95 growth" if len(runs) > 1 else ""
    print(f"  {'read':<58}{header}{growth}   requests")
    rows = [(label, [r.timings.get(label) for r in runs]) for label in runs[0].timings]
    for label, timings in rows:
        cells = "".join(f"{_ms(t.p50):>11}{_ms(t.p95):>11}" if t is not None else " " * 22 for t in timings)
        tail = ""
        first, last = timings[0], timings[-1]
        if len(runs) > 1 and first is not None and last is not None:
            tail = f"{last.p95 / first.p95:11.2f}×"
        counts = "/".join(str(t.count) for t in timings if t is not None)
        print(f"  {label:<58}{cells}{tail}   {counts}")
    raw_cells = "".join(f"{_ms(r.raw.p50):>11}{_ms(r.raw.p95):>11}" for r in runs)
    raw_tail = f"{runs[-1].raw.p50 / runs[0].raw.p50:11.2f}× (p50)" if len(runs) > 1 else ""
    print(f"  {'raw SQL aggregate, one innovation, every service':<58}{raw_cells}{raw_tail}")
    print(
        f"  the raw aggregate ran {runs[-1].raw.count} times per size after a warm-up run; at "
        f"{size_label(runs[-1].size)} it reads {runs[-1].raw.touchpoints_read:,} referencing touchpoints"
    )


def _status_goals(runs: list["SizeRun"], label: str) -> bool:
    largest, smallest = runs[-1], runs[0]
    raw = largest.raw.p50
    ok = True
    concurrent, alone = largest.timings.get(label), largest.timings.get(one_client(label))
    if concurrent is not None:
        queueing = f", {concurrent.p50 / alone.p50:.1f} × one client's p50" if alone is not None else ""
        print(
            f"  [INFO] {label} from {CONCURRENCY} clients: p95 {concurrent.p95 * 1000:.1f} ms, "
            f"{concurrent.count / concurrent.wall_seconds:.1f} requests/s{queueing} (queueing, not judged)"
        )
    for timed in (one_client(label),):
        if timed not in largest.timings:
            continue
        p95 = largest.timings[timed].p95
        ok &= _check(p95 * 1000 < LIMIT_MS, f"{timed}: p95 {p95 * 1000:.1f} ms < {LIMIT_MS:.0f} ms")
        ok &= _check(
            p95 / raw <= RAW_SHARE,
            f"{timed}: p95 is {p95 / raw:.3f} × the raw aggregate ({raw * 1000:.0f} ms), goal ≤ {RAW_SHARE}",
        )
        if len(runs) > 1 and timed in smallest.timings:
            growth = p95 / smallest.timings[timed].p95
            ok &= _check(
                growth <= GROWTH,
                f"{timed}: p95 {growth:.2f} × its p95 at {size_label(smallest.size)}, goal ≤ {GROWTH}",
            )
    return ok


def print_report(runs: list["SizeRun"], *, total_seconds: float) -> bool:
    print_load(runs)
    print_reads(runs)
    largest = runs[-1]
    print(f"\nGoals at {size_label(largest.size)} touchpoints (ratios against baselines of this run)")
    ok = _status_goals(runs, STATUS) & _status_goals(runs, STATUS_SERVICE)
    if GRAPHQL in largest.timings:
        for graphql, rest in ((GRAPHQL, STATUS), (one_client(GRAPHQL), one_client(STATUS))):
            for run in runs:
                if graphql in run.timings and rest in run.timings:
                    ratio = run.timings[graphql].p95 / run.timings[rest].p95
                    text = f"{graphql} at {size_label(run.size)}: p95 {ratio:.2f} × REST's"
                    ok &= _check(ratio <= GRAPHQL_RATIO, f"{text}, goal ≤ {GRAPHQL_RATIO}")
    else:
        ok &= _check(False, "GraphQL status: the schema has no innovationStatus field to time")
    print(f"\nTotal run time {total_seconds / 60:.1f} min")
    return ok
