// BenchmarkDotNet v0.15.8, Debian 12, AMD EPYC 2.10GHz, 2 cores shared with five other builds
// (load average ≈ 24 during the run, so the error columns are wide), .NET 10.0.12 X64 RyuJIT.
// `dotnet run -c Release --project tests/Aiops.Benchmarks -- --filter '*Topology*' --job short --inProcess`
// (in-process: the machine was too loaded for BenchmarkDotNet's 2-min boilerplate build timeout).
//
// | Method            | Mean     | Allocated |
// |------------------ |---------:|----------:|
// | ServicesOnly      | 233.2 us |  11.62 KB |
// | ServicesWithEdges | 296.4 us |  16.87 KB |
//
// ≈ 11.6 KB per service (service + one operation series, node, dictionaries) and ≈ 5.3 KB per
// edge (16.87 − 11.62); each RED series holds 4 open buckets with a sketch and 30 exemplar slots.

using Aiops.Core;
using Aiops.Topology;
using BenchmarkDotNet.Attributes;

namespace Aiops.Benchmarks.Topology;

/// <summary>
/// Memory per service and per edge: the bytes allocated to build the state (series, open
/// buckets with their sketches, exemplar rings, graph node/edge, dictionary slots) for 1,000
/// services, divided per service via <c>OperationsPerInvoke</c>. <see cref="ServicesWithEdges"/>
/// minus <see cref="ServicesOnly"/> is the cost of one edge (each service calls the next once).
/// Default options: 60-s buckets, 30-s pairing wait (4 open buckets), 30 exemplar buckets.
/// </summary>
[MemoryDiagnoser]
public class TopologyMemoryBenchmarks
{
    private const int Services = 1_000;
    private const long StartNs = 1_700_000_000_000L * 1_000_000;
    private SpanRecord[] _servers = [];
    private SpanRecord[] _withEdges = [];

    [GlobalSetup]
    public void Setup()
    {
        var servers = new List<SpanRecord>();
        var withEdges = new List<SpanRecord>();
        for (int i = 0; i < Services; i++)
        {
            string name = $"svc-{i:D4}";
            var server = new SpanRecord
            {
                TraceId = (UInt128)(i + 1),
                SpanId = 1,
                Service = name,
                Name = "GET /",
                Kind = SpanKind.Server,
                StartUnixNanos = StartNs,
                EndUnixNanos = StartNs + 5_000_000,
            };
            servers.Add(server);
            withEdges.Add(server);
            // svc-i calls svc-(i+1): a client span in svc-i and the server span of svc-(i+1).
            UInt128 trace = (UInt128)(1_000_000 + i);
            withEdges.Add(server with { TraceId = trace, SpanId = 2, ParentSpanId = 1, Service = $"svc-{(i + 1) % Services:D4}", Kind = SpanKind.Server });
            withEdges.Add(server with { TraceId = trace, SpanId = 1, ParentSpanId = 0, Service = name, Kind = SpanKind.Client });
        }

        _servers = [.. servers];
        _withEdges = [.. withEdges];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Services)]
    public int ServicesOnly() => Build(_servers);

    [Benchmark(OperationsPerInvoke = Services)]
    public int ServicesWithEdges() => Build(_withEdges);

    private static int Build(SpanRecord[] spans)
    {
        var aggregator = new SpanAggregator();
        foreach (var span in spans)
        {
            aggregator.Observe(in span);
        }

        return aggregator.SeriesCount + aggregator.Graph.EdgeCount;
    }
}
