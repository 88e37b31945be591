using Aiops.Core;
using static Aiops.Topology.Tests.Spans;

namespace Aiops.Topology.Tests;

public sealed class RedPartialTests
{
    private static TopologyOptions Options() => new() { BucketWidthMs = 10_000, PairingWaitMs = 2_000 };

    /// <summary>Three services' traffic in one 10 s bucket: server spans with errors, and a paired client → server call.</summary>
    private static List<SpanRecord> Traffic()
    {
        var spans = new List<SpanRecord>();
        var random = new Random(5);
        for (int i = 1; i <= 300; i++)
        {
            UInt128 trace = (UInt128)(ulong)random.NextInt64(1, long.MaxValue);
            long start = Epoch + random.Next(0, 9_000);
            double ms = Math.Round(5 + (random.NextDouble() * 200), 1);
            spans.Add(Make("cart", SpanKind.Server, trace, (ulong)(2 * i), (ulong)((2 * i) - 1), start + 1, ms, error: i % 17 == 0, instance: "cart-" + (i % 3)));
            spans.Add(Make("frontend", SpanKind.Client, trace, (ulong)((2 * i) - 1), 0, start, ms + 2, error: i % 17 == 0));
        }

        return spans;
    }

    private static List<MetricPoint> Direct(List<SpanRecord> spans, out SpanAggregator aggregator)
    {
        aggregator = new SpanAggregator(Options());
        foreach (var span in spans)
        {
            aggregator.Observe(span);
        }

        return [.. aggregator.AdvanceTo(Epoch + 60_000)];
    }

    /// <summary>The spans split over <paramref name="partitions"/> ingest aggregators by trace id, their partials merged in a fixed order.</summary>
    private static List<MetricPoint> Merged(List<SpanRecord> spans, int partitions, out SpanAggregator merger)
    {
        var ingest = new SpanAggregator[partitions];
        for (int p = 0; p < partitions; p++)
        {
            ingest[p] = new SpanAggregator(Options(), partials: true);
        }

        foreach (var span in spans)
        {
            ingest[(int)(span.TraceId % (uint)partitions)].Observe(span);
        }

        merger = new SpanAggregator(Options());
        var shares = new List<RedPartial>();
        for (int p = partitions - 1; p >= 0; p--)
        {
            ingest[p].AdvanceToPartials(Epoch + 60_000, shares);
        }

        foreach (var share in shares)
        {
            Assert.True(merger.AddPartial(share));
        }

        return [.. merger.AdvanceTo(Epoch + 60_000)];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void MergedPartialsGiveTheSamePointsAndExemplarsAsOneAggregatorFedEverySpan(int partitions)
    {
        var spans = Traffic();

        var direct = Direct(spans, out var one);
        var merged = Merged(spans, partitions, out var merger);

        // Same series, timestamps and values (quantiles from added sketch bins, so exactly equal).
        Assert.Equal(direct.OrderBy(p => p.Series.ToString(), StringComparer.Ordinal), merged.OrderBy(p => p.Series.ToString(), StringComparer.Ordinal));
        Assert.Contains(direct, p => p.Series.Labels == "callee=cart");
        foreach (var series in new[] { new SeriesKey("cart", RedMetrics.LatencyP99), new SeriesKey("frontend", RedMetrics.LatencyP99, "callee=cart") })
        {
            Assert.Equal(one.GetExemplarTraceIds(series, Epoch), merger.GetExemplarTraceIds(series, Epoch));
        }
    }

    [Fact]
    public void ExemplarsDoNotDependOnTheOrderOfTheSpans()
    {
        var spans = Traffic();
        var reversed = Enumerable.Reverse(spans).ToList();

        Direct(spans, out var forward);
        Direct(reversed, out var backward);

        var series = new SeriesKey("cart", RedMetrics.LatencyP99);
        Assert.Equal(3, forward.GetExemplarTraceIds(series, Epoch).Count);
        Assert.Equal(forward.GetExemplarTraceIds(series, Epoch), backward.GetExemplarTraceIds(series, Epoch));
    }

    [Fact]
    public void TheIngestAggregatorReportsEachTouchedNodeEdgeAndInstanceOncePerDrain()
    {
        var aggregator = new SpanAggregator(Options(), partials: true);
        foreach (var span in Traffic())
        {
            aggregator.Observe(span);
        }

        var facts = new List<GraphFact>();
        aggregator.DrainGraphFacts(facts);

        Assert.Equal(["cart", "frontend"], facts.Where(f => f.Kind == GraphFactKind.Node).Select(f => f.Node).Order(StringComparer.Ordinal));
        var edge = Assert.Single(facts, f => f.Kind == GraphFactKind.Edge);
        Assert.Equal(("frontend", "cart", 300L, 17L), (edge.Node, edge.Other, edge.Calls, edge.Errors)); // 300 calls, every 17th failed: 17 of them
        Assert.Equal(3, facts.Count(f => f.Kind == GraphFactKind.Instance));

        facts.Clear();
        aggregator.DrainGraphFacts(facts);
        Assert.Empty(facts);
    }
}
