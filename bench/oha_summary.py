#!/usr/bin/env python3
"""Reads oha's JSON report on stdin; prints `p50 p99 p99.9` in ms and the count of non-200s."""
import json
import sys

report = json.load(sys.stdin)
percentiles = report["latencyPercentiles"]
not_ok = sum(n for status, n in report["statusCodeDistribution"].items() if status != "200")
not_ok += sum(report.get("errorDistribution", {}).values())
print("%.3f %.3f %.3f %d" % (percentiles["p50"] * 1000, percentiles["p99"] * 1000,
                             percentiles["p99.9"] * 1000, not_ok))
