-- Prints one machine-readable line after a wrk run:
-- RESULT <requests/s> <p50 ms> <p99 ms> <p99.9 ms> <errors incl. non-2xx/3xx answers>
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  io.write(string.format("RESULT %.1f %.3f %.3f %.3f %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, errors))
end
