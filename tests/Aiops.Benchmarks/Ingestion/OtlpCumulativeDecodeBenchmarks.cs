using Aiops.Ingestion;
using Aiops.Ingestion.Otlp;
using BenchmarkDotNet.Attributes;

namespace Aiops.Benchmarks.Ingestion;

/// <summary>
/// Decode cost of cumulative monotonic sums, the most common OTLP metric (every counter), per data
/// point: each point needs its series' previous value (a dictionary lookup on the series key) to
/// become a rate. Consecutive requests must move forward in time, so each iteration starts a fresh
/// decoder primed with the first request and then decodes the next ones in order
/// (<see cref="InvocationCountAttribute"/> = requests per iteration). Request: 10 services × 20
/// metrics × 10 label sets (2,000 points), 10 s apart.
/// <para>Figure (probe by process CPU time, same payload shape, 2026-11-25, 2 shared cores): 462 ns
/// per point = 2.17 M points per CPU-second, 0 B/point. BenchmarkDotNet, <c>--job short --inProcess</c>,
/// load average 27 (wall time, pessimistic): mean 1.864 us per point (StdDev 1.144 us), 0 B allocated.</para>
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Requests)]
public class OtlpCumulativeDecodeBenchmarks
{
    private const int Requests = 128;
    private const int PointsPerRequest = 10 * 20 * 10;
    private const long T0 = 1_700_000_000_000_000_000;

    private readonly List<byte[]> _payloads = [];
    private readonly DecodeBatch _batch = new();
    private OtlpMetricsDecoder _decoder = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        for (int k = 0; k <= Requests; k++)
        {
            var resources = new List<OtlpResourceMetrics>();
            for (int s = 0; s < 10; s++)
            {
                var metrics = new List<OtlpMetric>();
                for (int m = 0; m < 20; m++)
                {
                    var points = new List<OtlpDataPoint>();
                    for (int p = 0; p < 10; p++)
                    {
                        points.Add(new OtlpDataPoint
                        {
                            StartTimeUnixNano = T0,
                            TimeUnixNano = T0 + ((k + 1) * 10_000_000_000L),
                            Value = k * (p + 1),
                            Attributes = [new("http.route", "/api/v1/items/" + p), new("http.method", "GET"), new("host", "node-" + (p % 3))],
                        });
                    }

                    metrics.Add(new OtlpMetric { Name = "app.requests." + m, Type = OtlpMetricType.Sum, Temporality = OtlpTemporality.Cumulative, IsMonotonic = true, Points = points });
                }

                resources.Add(new OtlpResourceMetrics { ServiceName = "service-" + s, Metrics = metrics });
            }

            _payloads.Add(OtlpProtobufEncoder.EncodeMetrics(resources));
        }
    }

    [IterationSetup]
    public void PrimeFreshDecoder()
    {
        _decoder = new OtlpMetricsDecoder();
        _batch.Clear();
        _decoder.Decode(_payloads[0], _batch);
        _next = 1;
    }

    /// <summary>One request of cumulative sums, per data point.</summary>
    [Benchmark(OperationsPerInvoke = PointsPerRequest)]
    public int DecodeCumulativeSumPoints()
    {
        _batch.Clear();
        _decoder.Decode(_payloads[_next++], _batch);
        return _batch.Metrics.Count;
    }
}
