"""The status benchmark's table and goal checks (issues 5 and 6), every ratio against the same run."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.status import SizeRun

STATUS = "GET /v1/innovations/{id}/status"
STATUS_SERVICE = "GET /v1/innovations/{id}/status?service_id"
GRAPHQL = "POST /graphql innovationStatus"
LIMIT_MS = 100.0
RAW_SHARE = 0.1
GROWTH = 1.5
GRAPHQL_RATIO = 1.3


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def _check(ok: bool, text: str) -> bool:
    print(f"  [{'PASS' if ok else 'MISS'}] {text}")
    return ok


def print_load(runs: list["SizeRun"]) -> None:
    print("\nLoad (binary COPY, one transaction per chunk; generation overlapped)")
    header = "".join(f"{r.size:>16,}" for r in runs)
    print(f"  {'touchpoints':<44}{header}")
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
        print(f"  {label:<44}" + "".join(f"{v:>16}" for v in values))
    mix = runs[-1].loaded.kinds
    total = sum(mix.values())
    print("  mix at the largest size: " + ", ".join(f"{k} {n / total:.1%}" for k, n in mix.most_common()))


def print_reads(runs: list["SizeRun"]) -> None:
    print("\nReads (ms; REST and GraphQL over HTTP as a quality lead, raw aggregate with asyncpg)")
    header = "".join(f"{f'{r.size:,} p50':>13}{f'{r.size:,} p95':>13}" for r in runs)
    growth = "  p95 growth" if len(runs) > 1 else ""
    print(f"  {'read':<50}{header}{growth}")
    labels = list(runs[0].timings)
    for label in labels:
        cells = "".join(
            f"{_ms(r.timings[label].p50):>13}{_ms(r.timings[label].p95):>13}"
            if label in r.timings
            else " " * 26
            for r in runs
        )
        tail = ""
        if len(runs) > 1 and all(label in r.timings for r in runs):
            tail = f"{runs[-1].timings[label].p95 / runs[0].timings[label].p95:11.2f}×"
        print(f"  {label:<50}{cells}{tail}")
    raw_cells = "".join(f"{_ms(r.raw.p50):>13}{_ms(r.raw.p95):>13}" for r in runs)
    raw_tail = f"{runs[-1].raw.p95 / runs[0].raw.p95:11.2f}×" if len(runs) > 1 else ""
    print(f"  {f'raw SQL aggregate, one innovation ({runs[-1].raw.count} runs)':<50}{raw_cells}{raw_tail}")
    print(
        "  requests per read: "
        + ", ".join(f"{r.size:,}: {min(t.count for t in r.timings.values())}+" for r in runs)
        + f"; touchpoints the raw aggregate reads at {runs[-1].size:,}: {runs[-1].raw.touchpoints_read:,}"
    )


def print_report(runs: list["SizeRun"], *, total_seconds: float) -> bool:
    print_load(runs)
    print_reads(runs)
    largest, smallest = runs[-1], runs[0]
    print(f"\nGoals (at {largest.size:,} touchpoints; ratios against baselines of this run)")
    ok = True
    for label in (STATUS, STATUS_SERVICE):
        p95 = largest.timings[label].p95
        ok &= _check(p95 * 1000 < LIMIT_MS, f"{label}: p95 {p95 * 1000:.1f} ms < {LIMIT_MS:.0f} ms")
        share = p95 / largest.raw.p95
        ok &= _check(
            share <= RAW_SHARE,
            f"{label}: p95 is {share:.3f} × the raw aggregate's p95 ({largest.raw.p95 * 1000:.0f} ms), "
            f"goal ≤ {RAW_SHARE}",
        )
        if len(runs) > 1:
            growth = p95 / smallest.timings[label].p95
            ok &= _check(
                growth <= GROWTH,
                f"{label}: p95 at {largest.size:,} is {growth:.2f} × its p95 at {smallest.size:,}, "
                f"goal ≤ {GROWTH}",
            )
    if GRAPHQL in largest.timings:
        for run in runs:
            ratio = run.timings[GRAPHQL].p95 / run.timings[STATUS].p95
            ok &= _check(
                ratio <= GRAPHQL_RATIO,
                f"GraphQL status at {run.size:,}: p95 {ratio:.2f} × REST's, goal ≤ {GRAPHQL_RATIO}",
            )
        one = f"{GRAPHQL} (one client)"
        if one in largest.timings:
            ratios = ", ".join(
                f"{r.size:,}: {r.timings[one].p95 / r.timings[f'{STATUS} (one client)'].p95:.2f}×"
                for r in runs
            )
            print(f"  [info] GraphQL ÷ REST status p95 with one client: {ratios}")
    else:
        ok &= _check(False, "GraphQL status: the schema has no innovationStatus field to time")
    print(f"\nTotal run time {total_seconds / 60:.1f} min")
    return ok
