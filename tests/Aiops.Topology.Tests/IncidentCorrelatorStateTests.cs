using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aiops.Core;
using static Aiops.Topology.Tests.Anomalies;

namespace Aiops.Topology.Tests;

/// <summary>
/// Cut-restore-continue for the correlator and its graph: a seeded stream of verdicts, sustains
/// and graph changes runs through one correlator; at a cut its state (graph, then correlator) is
/// saved and loaded into a fresh pair, both take the rest of the stream, and their events and
/// final states must be identical. A field left out of the state (an evidence time, a signal's
/// last-seen time, a known id, the clock, the edge order) changes a later event or byte and fails it.
/// </summary>
public sealed class IncidentCorrelatorStateTests
{
    private const long T0 = 1_700_000_040_000;
    private const long Minute = 60_000;
    private const int Minutes = 90;

    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>
    /// One minute of input: graph edges touched (caller, callee, calls), verdicts, sustained series.
    /// Seeded (Random 11): a payment outage with a database cause in minutes 10-24 (sustained
    /// after its verdicts), a search fault in minutes 40-47, a replica drift on checkout with
    /// instances and versions in minutes 55-62, and noise verdicts (1 in 6 minutes) elsewhere; the
    /// edge frontend→search is idle from minute 30 to 50 (aged out, then re-added), so the
    /// restored graph must keep its edge order across a removal.
    /// </summary>
    private static List<Step> Workload()
    {
        var random = new Random(11);
        var steps = new List<Step>();
        string[] noisy = ["frontend", "cart", "index", "email"];
        for (int m = 0; m < Minutes; m++)
        {
            long t = T0 + (m * Minute);
            var step = new Step(t);
            step.Edges.Add(("frontend", "checkout", 100 + random.Next(20)));
            step.Edges.Add(("checkout", "payment", 80 + random.Next(20)));
            step.Edges.Add(("payment", "db:postgresql", 60 + random.Next(20)));
            step.Edges.Add(("frontend", "cart", 50 + random.Next(10)));
            step.Edges.Add(("cart", "queue:kafka", 10));
            step.Edges.Add(("search", "index", 40 + random.Next(10)));
            step.Edges.Add(("checkout", "email", 5));
            if (m < 30 || m >= 50)
            {
                step.Edges.Add(("frontend", "search", 30 + random.Next(10)));
            }

            if (m is >= 10 and < 18)
            {
                double s = 0.7 + (random.NextDouble() * 0.3);
                step.Verdicts.Add(Make("db:postgresql", RedMetrics.LatencyP99, MetricKind.Latency, t, s, labels: "", detector: DetectorKind.LevelShift, observed: 400 + random.Next(50), exemplars: [TraceId(random)]));
                step.Verdicts.Add(Make("payment", RedMetrics.LatencyP99, MetricKind.Latency, t, s * 0.9, sinceMs: t - Minute, observed: 500));
                if (m >= 12)
                {
                    step.Verdicts.Add(Make("checkout", RedMetrics.Errors, MetricKind.ErrorRate, t, 0.6 + (random.NextDouble() * 0.2), labels: "callee=payment"));
                    step.Verdicts.Add(Make("frontend", RedMetrics.LatencyP95, MetricKind.Latency, t, 0.8, detector: DetectorKind.TailLatency));
                }
            }
            else if (m is >= 18 and < 24)
            {
                step.Sustains.Add(new SeriesKey("db:postgresql", RedMetrics.LatencyP99));
                step.Sustains.Add(new SeriesKey("payment", RedMetrics.LatencyP99));
            }

            if (m is >= 40 and < 47)
            {
                step.Verdicts.Add(Make("index", RedMetrics.Errors, MetricKind.ErrorRate, t, 0.9, detector: DetectorKind.RateIncrease, direction: Direction.Up));
                step.Verdicts.Add(Make("search", RedMetrics.LatencyP50, MetricKind.Latency, t + 30_000, 0.5 + (random.NextDouble() * 0.4)));
            }

            if (m is >= 55 and < 62)
            {
                step.Instances.Add(("checkout", "checkout-1", m < 58 ? "1.4.0" : "1.5.0", 200 + random.Next(50), 0.2));
                step.Instances.Add(("checkout", "checkout-2", "1.4.0", 40 + random.Next(10), 0.0));
                step.Verdicts.Add(Make("checkout", RedMetrics.LatencyP50, MetricKind.Latency, t, 0.85, labels: "instance=checkout-1", detector: DetectorKind.ReplicaDrift));
            }

            if (random.Next(6) == 0)
            {
                string node = noisy[random.Next(noisy.Length)];
                step.Verdicts.Add(Make(node, RedMetrics.Errors, MetricKind.ErrorRate, t, random.NextDouble(), detector: DetectorKind.Spike));
            }

            // A verdict delivered twice (at-least-once): the dedup memory must survive the cut.
            if (m is 14 or 44)
            {
                step.Verdicts.Add(steps[^2].Verdicts[0]);
            }

            steps.Add(step);
        }

        return steps;
    }

    private static string TraceId(Random random) => Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())) + Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()));

    private static CorrelatorOptions Options() => new() { QuietMs = 10 * Minute, DedupRetentionMs = 60 * Minute };

    private static List<string> Json(List<IncidentEvent> events) => [.. events.Select(static e => JsonSerializer.Serialize(e, JsonOptions))];

    private static List<IncidentEvent> Feed(ServiceGraph graph, IncidentCorrelator correlator, List<Step> steps, int from, int to)
    {
        var events = new List<IncidentEvent>();
        for (int i = from; i < to; i++)
        {
            var step = steps[i];
            foreach (var (caller, callee, calls) in step.Edges)
            {
                var edge = graph.AddEdge(caller, callee, step.TimeMs);
                edge.TotalCalls += calls;
            }

            foreach (var (node, instance, version, p50, errors) in step.Instances)
            {
                graph.Apply(new GraphFact { Kind = GraphFactKind.Instance, Node = node, Other = instance, Version = version, TimeMs = step.TimeMs, FirstMs = step.TimeMs });
                graph.Apply(new GraphFact { Kind = GraphFactKind.Replica, Node = node, Other = instance, TimeMs = step.TimeMs, LatencyP50Ms = p50, ErrorRatio = errors });
            }

            graph.RemoveIdle(step.TimeMs - (10 * Minute));
            foreach (var verdict in step.Verdicts)
            {
                correlator.Observe(verdict);
            }

            foreach (var series in step.Sustains)
            {
                correlator.Sustain(series, step.TimeMs);
            }

            events.AddRange(correlator.AdvanceTo(step.TimeMs));
        }

        return events;
    }

    private static byte[] Save(ServiceGraph graph, IncidentCorrelator correlator)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            graph.SaveState(writer);
            correlator.SaveState(writer);
        }

        return stream.ToArray();
    }

    private static (ServiceGraph Graph, IncidentCorrelator Correlator) Load(byte[] state)
    {
        var graph = new ServiceGraph();
        var correlator = new IncidentCorrelator(graph, Options());
        using var reader = new BinaryReader(new MemoryStream(state), Encoding.UTF8);
        graph.LoadState(reader);
        correlator.LoadState(reader);
        Assert.Equal(state.Length, reader.BaseStream.Position);
        return (graph, correlator);
    }

    [Fact]
    public void TheWorkloadOpensUpdatesAndResolvesIncidents()
    {
        // The cut tests below compare runs; this one checks the workload exercises what they cut through.
        var graph = new ServiceGraph();
        var events = Feed(graph, new IncidentCorrelator(graph, Options()), Workload(), 0, Minutes);

        Assert.True(events.Count(static e => e.Kind == IncidentEventKind.Open) >= 3, "at least three incidents open");
        Assert.Contains(events, static e => e.Kind == IncidentEventKind.Update);
        Assert.True(events.Count(static e => e.Kind == IncidentEventKind.Resolve) >= 3, "at least three incidents resolve");
    }

    [Theory]
    [InlineData(11)] // the payment incident gathering evidence, not yet open
    [InlineData(15)] // open, with ranked causes and a duplicate verdict just seen
    [InlineData(21)] // open on sustains only, before its resolve
    [InlineData(44)] // the search incident open while the frontend→search edge is aged out
    [InlineData(58)] // the replica-drift incident open across a version change
    [InlineData(75)] // everything resolved; only dedup memory and known ids left
    public void ACorrelatorRestoredAtACutGivesTheEventsAndStateOfTheUndisturbedOne(int cut)
    {
        var steps = Workload();
        var graph = new ServiceGraph();
        var original = new IncidentCorrelator(graph, Options());
        Feed(graph, original, steps, 0, cut);
        var state = Save(graph, original);

        var (restoredGraph, restored) = Load(state);
        Assert.Equal(state, Save(restoredGraph, restored));
        Assert.Equal(original.OpenCount, restored.OpenCount);

        var expected = Json(Feed(graph, original, steps, cut, Minutes));
        var actual = Json(Feed(restoredGraph, restored, steps, cut, Minutes));

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
        Assert.Equal(Save(graph, original), Save(restoredGraph, restored));
        Assert.Equal(original.DuplicateAnomalies, restored.DuplicateAnomalies);
    }

    [Fact]
    public void TheCutsCoverAnIncidentOpenBeforeItsUpdateAndResolve()
    {
        // What makes cut 15 of the theory above meaningful: an incident is open there and its
        // later update and resolve come after the cut.
        var steps = Workload();
        var graph = new ServiceGraph();
        var correlator = new IncidentCorrelator(graph, Options());
        var before = Feed(graph, correlator, steps, 0, 15);
        var open = Assert.Single(before, static e => e.Kind == IncidentEventKind.Open);
        Assert.Equal(1, correlator.OpenCount);
        var after = Feed(graph, correlator, steps, 15, Minutes);
        Assert.Contains(after, e => e.Incident.Id == open.Incident.Id && e.Kind == IncidentEventKind.Update);
        Assert.Contains(after, e => e.Incident.Id == open.Incident.Id && e.Kind == IncidentEventKind.Resolve);
    }

    [Fact]
    public void ATruncatedStateIsRefusedWithAMessageNamingTheSection()
    {
        var steps = Workload();
        var graph = new ServiceGraph();
        var correlator = new IncidentCorrelator(graph, Options());
        Feed(graph, correlator, steps, 0, 15);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            correlator.SaveState(writer);
        }

        var cut = stream.ToArray()[..(int)(stream.Length / 2)];
        var e = Assert.Throws<InvalidDataException>(() => new IncidentCorrelator(new ServiceGraph(), Options()).LoadState(new BinaryReader(new MemoryStream(cut))));
        Assert.Contains("incident correlator state", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGraphStateGivenToTheCorrelatorIsRefusedAsForeign()
    {
        var graph = new ServiceGraph();
        graph.AddEdge("a", "b", T0);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            graph.SaveState(writer);
        }

        stream.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => new IncidentCorrelator(new ServiceGraph()).LoadState(new BinaryReader(stream)));
        Assert.Contains("The incident correlator state does not start with its magic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARestoredGraphKeepsEachNodesEdgeOrderAcrossARemoval()
    {
        // a→b, a→c, a→d created in that order; a→b ages out and comes back last. FindPath breaks
        // ties by out-edge order, so a graph rebuilt in another order could pick another path.
        var graph = new ServiceGraph();
        graph.AddEdge("a", "b", T0);
        graph.AddEdge("a", "c", T0 + Minute);
        graph.AddEdge("a", "d", T0 + Minute);
        graph.RemoveIdle(T0 + 1);
        graph.AddEdge("a", "b", T0 + (2 * Minute));
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            graph.SaveState(writer);
        }

        stream.Position = 0;
        var restored = new ServiceGraph();
        restored.LoadState(new BinaryReader(stream));

        Assert.Equal(["c", "d", "b"], restored.Graph.OutEdges("a").Select(static e => e.Target));
        Assert.Equal(graph.Graph.OutEdges("a").Select(static e => e.Target), restored.Graph.OutEdges("a").Select(static e => e.Target));
    }

    private sealed class Step(long timeMs)
    {
        public long TimeMs { get; } = timeMs;

        public List<(string Caller, string Callee, int Calls)> Edges { get; } = [];

        public List<(string Node, string Instance, string Version, double P50, double Errors)> Instances { get; } = [];

        public List<Anomaly> Verdicts { get; } = [];

        public List<SeriesKey> Sustains { get; } = [];
    }
}
