#!/usr/bin/env python3
"""Writes the soak run's results as Markdown.

Arguments: kept.json new.json rss-samples changes max_rps rate seconds peak_kb commit —
the two oha JSON reports (kept connections, a new connection per request), the RSS samples
in kB (one per 5 s), the change counter file (`changes failed`), the measured maximum, the
rate held, the duration, the peak RSS in kB and the commit; optionally an eleventh, the
SQLite file oha wrote every kept-connection request to (SOAK_TIMELINE=1), for a table of
the seconds whose p99 latency passed 20 ms.
"""
import datetime
import json
import platform
import sys

kept_path, new_path, rss_path, changes_path = sys.argv[1:5]
max_rps, rate, seconds, peak_kb = (int(v) for v in sys.argv[5:9])
commit = sys.argv[9]
timeline_db = sys.argv[10] if len(sys.argv) > 10 else None


def summary(path):
    report = json.load(open(path))
    codes = {int(k): v for k, v in report["statusCodeDistribution"].items()}
    errors = report.get("errorDistribution", {})
    p = report["latencyPercentiles"]
    return {
        "total": sum(codes.values()) + sum(errors.values()),
        "rps": report["summary"]["requestsPerSec"],
        "ok": codes.get(200, 0),
        "5xx": sum(v for k, v in codes.items() if 500 <= k < 600),
        "other": sum(v for k, v in codes.items() if k != 200 and not 500 <= k < 600),
        "errors": errors,
        "p50": p["p50"] * 1000,
        "p99": p["p99"] * 1000,
        "p999": p["p99.9"] * 1000,
    }


kept, new = summary(kept_path), summary(new_path)
achieved = kept["rps"] + new["rps"]
# oha corrects for coordinated omission: when it cannot send at the asked rate, the delay
# of every late request counts as latency. Then the figures measure the load generator.
kept_up = achieved >= 0.97 * rate
rss = [int(line) for line in open(rss_path) if line.strip()]
changes, failed_changes = (int(v) for v in open(changes_path).read().split())
# Flat: the last minute's samples against the first minute's (after a warm-up sample).
window = max(1, min(12, len(rss) // 3))
early = rss[1:1 + window] or rss[:1]
late = rss[-window:]
early_mb = max(early) / 1024
late_mb = max(late) / 1024
growth = late_mb - early_mb
flat = growth <= max(2.0, early_mb * 0.05)
no_5xx = kept["5xx"] == 0 and new["5xx"] == 0

print(f"# Soak run — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n")
print(f"Commit `{commit}` · {platform.machine()} · Linux {platform.release()}")
print(f"Case (c) of run.sh (key + ip-filter + rate-limit-by-key + set-header) at {rate:,} req/s "
      f"= 80 % of the {max_rps:,} req/s measured just before, for {seconds} s; the policy of "
      f"the loaded API changed every second ({changes} changes, {failed_changes} failed).\n")
print(f"Achieved {achieved:,.0f} req/s of the {rate:,} asked"
      + ("." if kept_up else
         " — **the load generator fell behind** (oha on one core; see bench/README.md), so the"
         " latency figures below measure its backlog, not the gateway.") + "\n")
print("| callers | requests | req/s | 200 | 5xx | other status | connection errors | p50 ms | p99 ms | p99.9 ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, s in (("kept connections", kept), ("a new connection per request", new)):
    errors = sum(s["errors"].values())
    print(f"| {name} | {s['total']:,} | {s['rps']:,.0f} | {s['ok']:,} | {s['5xx']} | {s['other']} "
          f"| {errors} | {s['p50']:.3f} | {s['p99']:.3f} | {s['p999']:.3f} |")
for name, s in (("kept", kept), ("new", new)):
    for error, count in s["errors"].items():
        print(f"\n{name}: {count} × {error}")
print("\n| memory | MiB |\n|---|---:|")
print(f"| RSS, first minute (max) | {early_mb:.1f} |")
print(f"| RSS, last minute (max) | {late_mb:.1f} |")
print(f"| peak RSS | {peak_kb / 1024:.1f} |")
print(f"\nSamples every 5 s: {', '.join(f'{v / 1024:.0f}' for v in rss)} MiB\n")
print("| check | result |\n|---|:---:|")
print(f"| no 5xx made by the gateway | {'yes' if no_5xx else '**no**'} |")
print(f"| RSS flat (last minute within max(2 MiB, 5 %) of the first) | "
      f"{'yes' if flat else '**no**'} ({growth:+.1f} MiB) |")
print(f"| every policy change saved | {'yes' if failed_changes == 0 else '**no**'} |")
print(f"| the asked rate was offered (latency figures are the gateway's) | "
      f"{'yes' if kept_up else '**no**'} |")

if timeline_db:
    import collections
    import sqlite3

    rows = sqlite3.connect(timeline_db).execute(
        "select start, coalesce(start_latency_correction, start), end from oha").fetchall()
    first = min(r[0] for r in rows)
    by_second = collections.defaultdict(list)
    late = collections.defaultdict(int)
    for start, scheduled, end in rows:
        by_second[int(start - first)].append(end - scheduled)
        # Sent more than 1 ms after its slot: the load generator was behind.
        late[int(start - first)] += (start - scheduled) > 0.001
    slow = []
    for second in sorted(by_second):
        latencies = sorted(by_second[second])
        p99 = latencies[int(len(latencies) * 0.99)] * 1000
        if p99 > 20:
            slow.append((second, len(latencies), latencies[len(latencies) // 2] * 1000, p99,
                         late[second]))
    print(f"\nKept connections, second by second: {len(slow)} of {len(by_second)} seconds had a "
          "p99 over 20 ms (latency from each request's scheduled start).\n")
    if slow:
        print("| second | requests | p50 ms | p99 ms | sent late by oha |")
        print("|---:|---:|---:|---:|---:|")
        for second, count, p50, p99, sent_late in slow:
            print(f"| {second} | {count:,} | {p50:.1f} | {p99:.1f} | {sent_late:,} |")
