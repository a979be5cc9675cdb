"""The bench reads wrk's latency percentiles, also those wrk prints in seconds (padded
with a trailing space), which it once read as 0."""

from bench.loadgen import parse_wrk

WRK = """Running 15s test @ http://127.0.0.1:8000/api/v1/cases
  Latency Distribution
     50%   98.82ms
     75%  101.68ms
     90%  108.91ms
     99%    1.22s{pad}
  2298 requests in 15.02s, 1.00MB read
""".format(pad=" ")


def test_percentiles_in_seconds_are_read():
    result = parse_wrk(WRK)
    assert result.p50_ms == 98.82
    assert result.p99_ms == 1220.0
    assert result.requests == 2298
