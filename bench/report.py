#!/usr/bin/env python3
"""Turns bench/run.sh's raw measurements into the Markdown table kept in bench/results/.

    report.py RAW ROUNDS SECONDS CONNECTIONS RATE CHANGES APIS OPERATIONS SUBSCRIPTIONS COMMIT

RAW has tab-separated lines:
    saturated <target> <rps p50 p99 p99.9 errors>
    fixed <target> <p50 p99 p99.9 errors>
    propagation <instance> <write_ms|propagation_ms> <p50 p99 max>
    rss <instance> <peak KiB> <now KiB>
    listpage <first|last|search> <min median max ms>
"""
import datetime
import os
import platform
import statistics
import sys
from collections import defaultdict


def median_columns(rows):
    """Per column, the median over the rounds: one disturbed round does not move it."""
    return [statistics.median(column) for column in zip(*rows)]


def main():
    (raw, rounds, seconds, connections, rate, changes, apis, operations, subscriptions,
     commit) = sys.argv[1:11]
    saturated, fixed = defaultdict(list), defaultdict(list)
    propagation, rss, listpage = {}, {}, {}
    order = []
    with open(raw) as lines:
        for line in lines:
            kind, name, *rest = line.rstrip("\n").split("\t")
            if kind == "saturated":
                if name not in order:
                    order.append(name)
                saturated[name].append([float(x) for x in rest[0].split()])
            elif kind == "fixed":
                fixed[name].append([float(x) for x in rest[0].split()])
            elif kind == "propagation":
                propagation[(name, rest[0])] = [float(x) for x in rest[1].split()]
            elif kind == "listpage":
                listpage[name] = [float(x) for x in rest[0].split()]
            elif kind == "rss":
                rss[name] = [int(x) for x in rest[0].split()]

    median = {name: median_columns(rows) for name, rows in saturated.items()}
    nginx_rps = median["nginx"][0]
    haproxy_name = "haproxy (key map + ACL + stick-table + header)"
    haproxy_rps = median.get(haproxy_name, [0])[0]
    direct = median["direct"]
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(l.split(":", 1)[1].strip() for l in info if l.startswith("model name"))
    except (OSError, StopIteration):
        pass

    out = []
    out.append(f"# Gateway benchmark — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    out.append("")
    out.append(f"Commit `{commit}` · {cpu} · {os.cpu_count()} cores · Linux {platform.release()}")
    out.append(f"wrk -t1 -c{connections}, {rounds} rounds × {seconds} s alternating targets "
               "after a warm-up round; load generator and targets on different cores; "
               "numbers are medians over the rounds.")
    out.append("")
    out.append("## Saturation (requests/s as fast as 32 connections go)")
    out.append("")
    out.append("| target | req/s | ÷ nginx | ÷ HAProxy | p50 ms | p99 ms | p99.9 ms | added p99 over direct | errors |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in order:
        rps, p50, p99, p999, errors = median[name]
        added = "—" if name == "direct" else f"{p99 - direct[2]:+.3f} ms"
        versus_haproxy = f"{rps / haproxy_rps:.2f}" if haproxy_rps else "—"
        out.append(f"| {name} | {rps:,.0f} | {rps / nginx_rps:.2f} | {versus_haproxy} | {p50:.3f} | {p99:.3f} "
                   f"| {p999:.3f} | {added} | {sum(r[4] for r in saturated[name]):.0f} |")

    out.append("")
    out.append(f"## Latency at a fixed rate ({int(rate):,} req/s = half of case (c)'s saturation; oha with latency correction)")
    out.append("")
    out.append("| target | p50 ms | p99 ms | p99.9 ms | added p50 | added p99 | non-200 |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    fixed_median = {name: median_columns(rows) for name, rows in fixed.items()}
    direct_fixed = fixed_median.get("direct", [0, 0, 0, 0])
    for name, (p50, p99, p999, bad) in fixed_median.items():
        added50 = "—" if name == "direct" else f"{p50 - direct_fixed[0]:+.3f} ms"
        added99 = "—" if name == "direct" else f"{p99 - direct_fixed[1]:+.3f} ms"
        out.append(f"| {name} | {p50:.3f} | {p99:.3f} | {p999:.3f} | {added50} | {added99} | {bad:.0f} |")

    out.append("")
    out.append(f"## Propagation ({changes} ip-filter changes through the management API)")
    out.append("")
    out.append("| instance | write round trip p50 / p99 / max ms | write returned → first call that sees it p50 / p99 / max ms |")
    out.append("|---|---:|---:|")
    for instance in ("small", "large"):
        write = propagation.get((instance, "write_ms"), [0, 0, 0])
        seen = propagation.get((instance, "propagation_ms"), [0, 0, 0])
        out.append(f"| {label(instance, apis, operations, subscriptions)} | "
                   f"{write[0]:.1f} / {write[1]:.1f} / {write[2]:.1f} | "
                   f"{seen[0]:.2f} / {seen[1]:.2f} / {seen[2]:.2f} |")

    if listpage:
        out.append("")
        out.append(f"## Subscription list pages ({int(subscriptions):,} subscriptions, 50 per page, management API)")
        out.append("")
        out.append("| page | min ms | median ms | max ms |")
        out.append("|---|---:|---:|---:|")
        for what, (low, mid, high) in listpage.items():
            out.append(f"| {what} | {low:.1f} | {mid:.1f} | {high:.1f} |")

    out.append("")
    out.append("## Memory")
    out.append("")
    out.append("| instance | peak RSS | RSS at the end |")
    out.append("|---|---:|---:|")
    for instance in ("small", "large"):
        peak, now = rss.get(instance, [0, 0])
        out.append(f"| {label(instance, apis, operations, subscriptions)} | {peak / 1024:.1f} MiB | {now / 1024:.1f} MiB |")

    out.append("")
    out.append("## Targets")
    out.append("")
    c1 = median["c (key+policies), 1 API"][0]
    c_large = median[f"c (key+policies), {apis} APIs"][0]
    fixed_c = fixed_median.get("c (key+policies), 1 API", [0, 0, 0, 0])
    nginx_fixed = fixed_median.get("nginx", [0, 0, 0, 0])
    # (target, measured, nginx in the same run for comparison, met)
    checks = [
        ("case (c) ≥ 1.0× nginx req/s", f"{c1 / nginx_rps:.2f}×", "1.00×",
         c1 / nginx_rps >= 1.0),
        ("case (c) ÷ HAProxy doing the same work",
         f"{c1 / haproxy_rps:.2f}×" if haproxy_rps else "—",
         f"{nginx_rps / haproxy_rps:.2f}×" if haproxy_rps else "—",
         bool(haproxy_rps) and c1 / haproxy_rps >= 1.0),
        ("added p99 over direct ≤ 0.5 ms at half saturation (case c)",
         f"{fixed_c[1] - direct_fixed[1]:+.3f} ms", f"{nginx_fixed[1] - direct_fixed[1]:+.3f} ms",
         fixed_c[1] - direct_fixed[1] <= 0.5),
        ("1,000 APIs within 5% of 1 API (case c)", f"{c_large / c1:.3f}", "—",
         c_large / c1 >= 0.95),
        ("RSS < 100 MB with the large config",
         f"{rss.get('large', [0])[0] / 1024:.1f} MiB ({rss.get('large', [0])[0] * 1024 / 1e6:.1f} MB)",
         "—", rss.get("large", [0])[0] * 1024 < 100_000_000),
        ("propagation p99 < 50 ms (large config)",
         f"{propagation.get(('large', 'propagation_ms'), [0, 0])[1]:.2f} ms", "—",
         propagation.get(("large", "propagation_ms"), [0, 99])[1] < 50),
    ]
    out.append("| target | measured | nginx, same run | met |")
    out.append("|---|---:|---:|:---:|")
    for what, measured, nginx_value, met in checks:
        out.append(f"| {what} | {measured} | {nginx_value} | {'yes' if met else '**no**'} |")

    redis_name = "c (key+policies), 1 API, Redis counters"
    if redis_name in median:
        redis_rps = median[redis_name][0]
        redis_fixed = fixed_median.get(redis_name, [0, 0, 0, 0])
        out.append("")
        out.append("## Counters in Redis")
        out.append("")
        out.append("Case (c) with `rate-limit-by-key` counted in a local redis-server (on the "
                   "gateway's core) instead of in memory: one Lua script per call.")
        out.append("")
        out.append("| | in memory | in Redis | Redis ÷ memory |")
        out.append("|---|---:|---:|---:|")
        out.append(f"| saturation req/s | {c1:,.0f} | {redis_rps:,.0f} | {redis_rps / c1:.2f} |")
        out.append(f"| p50 / p99 at {int(rate):,} req/s | {fixed_c[0]:.3f} / {fixed_c[1]:.3f} ms "
                   f"| {redis_fixed[0]:.3f} / {redis_fixed[1]:.3f} ms | — |")
    print("\n".join(out))


def label(instance, apis, operations, subscriptions):
    if instance == "small":
        return "1 API (4 APIs, 1 subscription)"
    return f"{int(apis):,} APIs × {operations} operations, {int(subscriptions):,} subscriptions"


if __name__ == "__main__":
    main()
