// BenchmarkDotNet v0.15.8, Debian 12, AMD EPYC 2.10GHz, 2 cores shared with five other builds
// (load average ≈ 24 during the run, so the error columns are wide), .NET 10.0.12 X64 RyuJIT.
// `dotnet run -c Release --project tests/Aiops.Benchmarks -- --filter '*Topology*' --job short --inProcess`
// (in-process: the machine was too loaded for BenchmarkDotNet's 2-min boilerplate build timeout).
//
// | Method           | Mean      | Error      | StdDev    | Allocated  |
// |----------------- |----------:|-----------:|----------:|-----------:|
// | Rank             |  4.669 ms |  46.198 ms |  2.532 ms |   157.1 KB |
// | CorrelateAndOpen | 49.185 ms | 535.030 ms | 29.327 ms | 1240.69 KB |
//
// An earlier, less loaded run: Rank 3.4 ms, CorrelateAndOpen 40 ms (before one BFS per verdict).
//
// Session 2 (witness rule, onset bound, episode sustain), load average 3.5 at the start of the run,
// `dotnet run -c Release --project tests/Aiops.Benchmarks -- --filter '*RcaBenchmarks*' -i --job short`:
//
// | Method           | Mean       | Error     | StdDev   | Allocated  |
// |----------------- |-----------:|----------:|---------:|-----------:|
// | Rank             |   127.8 us |  36.40 us |  2.00 us |  157.54 KB |
// | CorrelateAndOpen | 1,082.7 us | 226.18 us | 12.40 us | 1241.44 KB |

using Aiops.Core;
using Aiops.Topology;
using BenchmarkDotNet.Attributes;

namespace Aiops.Benchmarks.Topology;

/// <summary>
/// Root-cause ranking on a 1,000-service graph with 50 anomalous nodes (target ≤ 20 ms), and the
/// correlator taking the same 50 verdicts and opening the incident (grouping + ranking).
/// </summary>
/// <remarks>
/// The graph is layered like a large microservice estate: 10 layers of 100 services, each calling
/// 3 services of the next layer (seeded). The anomalous set is a fault at a layer-9 service and
/// 49 of its transitive callers, each with a latency and an error-rate signal (100 signals).
/// </remarks>
[MemoryDiagnoser]
public class RcaBenchmarks
{
    private const long T = 1_700_000_040_000;
    private ServiceGraph _graph = null!;
    private IncidentSignal[] _signals = [];
    private Anomaly[] _anomalies = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        _graph = new ServiceGraph();
        for (int layer = 0; layer < 9; layer++)
        {
            for (int i = 0; i < 100; i++)
            {
                for (int k = 0; k < 3; k++)
                {
                    _graph.AddEdge(Name(layer, i), Name(layer + 1, random.Next(100)), T);
                }
            }
        }

        // Breadth-first over callers from the root cause until 50 nodes are anomalous.
        var anomalous = new List<(string Node, int Depth)> { (Name(9, 42), 0) };
        var seen = new HashSet<string> { Name(9, 42) };
        for (int head = 0; head < anomalous.Count && anomalous.Count < 50; head++)
        {
            foreach (string caller in _graph.Callers(anomalous[head].Node))
            {
                if (anomalous.Count < 50 && seen.Add(caller))
                {
                    anomalous.Add((caller, anomalous[head].Depth + 1));
                }
            }
        }

        var signals = new List<IncidentSignal>();
        var anomalies = new List<Anomaly>();
        foreach (var (node, depth) in anomalous)
        {
            long since = T + (depth * 30_000);
            double score = Math.Min(0.99, 0.7 + (0.03 * depth)); // victims louder than the cause
            signals.Add(new IncidentSignal { Node = node, Service = node, Metric = RedMetrics.LatencyP99, Kind = MetricKind.Latency, SinceMs = since, LastSeenMs = since, Score = score, Direction = Direction.Up });
            signals.Add(new IncidentSignal { Node = node, Service = node, Metric = RedMetrics.Errors, Kind = MetricKind.ErrorRate, SinceMs = since, LastSeenMs = since, Score = score - 0.1, Direction = Direction.Up });
            anomalies.Add(Verdict(node, RedMetrics.LatencyP99, MetricKind.Latency, since, score));
            anomalies.Add(Verdict(node, RedMetrics.Errors, MetricKind.ErrorRate, since, score - 0.1));
        }

        _signals = [.. signals];
        _anomalies = [.. anomalies.OrderBy(a => a.TimestampMs)];
    }

    [Benchmark]
    public string Rank() => RootCauseRanker.Rank(_signals, _graph)[0].Node;

    [Benchmark]
    public int CorrelateAndOpen()
    {
        var correlator = new IncidentCorrelator(_graph, new CorrelatorOptions { MaxHops = 3 });
        foreach (var a in _anomalies)
        {
            correlator.Observe(a);
        }

        return correlator.AdvanceTo(T + 600_000).Count;
    }

    private static string Name(int layer, int i) => $"svc-{layer}-{i:D3}";

    private static Anomaly Verdict(string node, string metric, MetricKind kind, long ts, double score) => new()
    {
        Series = new SeriesKey(node, metric),
        Kind = kind,
        Detector = DetectorKind.Spike,
        TimestampMs = ts,
        SinceMs = ts,
        Observed = 1,
        Expected = 0,
        Lower = 0,
        Upper = 0,
        PValue = 1 - score,
        Score = score,
        Direction = Direction.Up,
    };
}
