using Aiops.Core;
using static Aiops.Topology.Tests.Spans;

namespace Aiops.Topology.Tests;

public class SpanAggregatorTests
{
    // 10-s buckets, 5-s pairing wait, 60-s idle timeout: small numbers keep the timelines readable.
    private static SpanAggregator NewAggregator() => new(new TopologyOptions
    {
        BucketWidthMs = 10_000,
        PairingWaitMs = 5_000,
        IdleTimeoutMs = 60_000,
    });

    [Fact]
    public void AServerSpanArrivingBeforeItsClientParentIsPairedWhenTheParentComes()
    {
        var agg = NewAggregator();
        agg.Observe(Make("payment", SpanKind.Server, 1, spanId: 2, parent: 1, Epoch + 1_000, 20));
        agg.AdvanceTo(Epoch + 3_000);
        Assert.Equal(1, agg.PendingSpans);
        Assert.False(agg.Graph.TryGetEdge("checkout", "payment", out _));

        agg.Observe(Make("checkout", SpanKind.Client, 1, spanId: 1, parent: 9, Epoch + 990, 30));

        Assert.True(agg.Graph.TryGetEdge("checkout", "payment", out var edge));
        Assert.Equal(1, edge.TotalCalls);
        Assert.Equal(1, agg.Counters.Paired);
        Assert.Equal(0, agg.PendingSpans);
    }

    [Fact]
    public void AClientSpanArrivingFirstIsPairedWithTheLaterServerSpan()
    {
        var agg = NewAggregator();
        agg.Observe(Make("checkout", SpanKind.Client, 1, spanId: 1, parent: 9, Epoch + 990, 30));
        agg.Observe(Make("payment", SpanKind.Server, 1, spanId: 2, parent: 1, Epoch + 1_000, 20));
        Assert.Equal(["payment"], agg.Graph.Callees("checkout"));
        Assert.Equal(["checkout"], agg.Graph.Callers("payment"));
    }

    [Fact]
    public void SpansThatFindNoPartnerWithinTheWaitAreCountedAndMakeNoEdge()
    {
        var agg = NewAggregator();
        // Server span whose parent never arrives; client span naming no peer.
        agg.Observe(Make("payment", SpanKind.Server, 1, spanId: 2, parent: 77, Epoch + 1_000, 20));
        agg.Observe(Make("checkout", SpanKind.Client, 2, spanId: 5, parent: 9, Epoch + 1_000, 20));

        agg.AdvanceTo(Epoch + 1_020 + 4_999);
        Assert.Equal(0, agg.Counters.UnpairedServers);

        // Deadline = span end (E+1,020) + 5,000 ms wait.
        agg.AdvanceTo(Epoch + 1_020 + 5_000);
        Assert.Equal(1, agg.Counters.UnpairedServers);
        Assert.Equal(1, agg.Counters.UnpairedClients);
        Assert.Equal(0, agg.Graph.EdgeCount);
        Assert.Equal(0, agg.PendingSpans);
    }

    [Fact]
    public void AParentArrivingAfterTheWaitIsNotPairedWithItsExpiredChild()
    {
        var agg = NewAggregator();
        agg.Observe(Make("payment", SpanKind.Server, 1, spanId: 2, parent: 1, Epoch + 1_000, 20));
        agg.AdvanceTo(Epoch + 10_000);
        agg.Observe(Make("checkout", SpanKind.Client, 1, spanId: 1, parent: 9, Epoch + 990, 30));
        agg.AdvanceTo(Epoch + 20_000);

        Assert.Equal(1, agg.Counters.UnpairedServers);
        Assert.Equal(1, agg.Counters.UnpairedClients);
        Assert.Equal(0, agg.Counters.Paired);
        Assert.False(agg.Graph.TryGetEdge("checkout", "payment", out _));
    }

    [Fact]
    public void UninstrumentedCalleesBecomeVirtualNodes()
    {
        var agg = NewAggregator();
        agg.Observe(Make("payment", SpanKind.Client, 1, 1, 0, Epoch, 5, db: "postgresql"));
        agg.Observe(Make("checkout", SpanKind.Producer, 2, 2, 0, Epoch, 1, messaging: "kafka"));
        agg.Observe(Make("email", SpanKind.Consumer, 2, 3, 2, Epoch + 10, 3, messaging: "kafka"));
        agg.Observe(Make("checkout", SpanKind.Client, 3, 4, 0, Epoch, 80, peer: "stripe"));

        Assert.True(agg.Graph.TryGetEdge("payment", "db:postgresql", out _));
        Assert.True(agg.Graph.TryGetEdge("checkout", "queue:kafka", out _));
        Assert.True(agg.Graph.TryGetEdge("queue:kafka", "email", out _));
        // The peer.service client waits for a possible server span first.
        Assert.False(agg.Graph.ContainsNode("ext:stripe"));

        agg.AdvanceTo(Epoch + 80 + 5_000);
        Assert.True(agg.Graph.TryGetEdge("checkout", "ext:stripe", out _));
        Assert.True(agg.Graph.TryGetNode("db:postgresql", out var db));
        Assert.Equal(NodeKind.Database, db.Kind);
        Assert.Equal(0, agg.Counters.UnpairedClients);
    }

    [Fact]
    public void AClosedBucketEmitsRateErrorRateAndLatencyQuantiles()
    {
        var agg = NewAggregator();
        // Ten server spans in [E, E+10 s): 10, 20, …, 100 ms; the 30- and 70-ms ones failed.
        for (int i = 1; i <= 10; i++)
        {
            agg.Observe(Make("checkout", SpanKind.Server, (UInt128)i, (ulong)i, 0, Epoch + (i * 100), i * 10, error: i is 3 or 7, name: "POST /pay"));
        }

        // The bucket closes at its end + the pairing wait: E + 10 s + 5 s.
        Assert.Empty(agg.AdvanceTo(Epoch + 14_999));
        var points = agg.AdvanceTo(Epoch + 15_000);

        var service = points.Where(p => p.Series.Service == "checkout" && p.Series.Labels.Length == 0).ToDictionary(p => p.Series.Metric);
        Assert.Equal(1.0, service[RedMetrics.Requests].Value);       // 10 requests / 10 s
        Assert.Equal(MetricKind.Throughput, service[RedMetrics.Requests].Kind);
        Assert.Equal(0.2, service[RedMetrics.Errors].Value, 12);      // 2 of 10
        Assert.Equal(10, service[RedMetrics.Errors].Total);
        Assert.Equal(MetricKind.ErrorRate, service[RedMetrics.Errors].Kind);
        // P50 = rank ⌊0.5·9⌋ = 4 → 50 ms; P99 = rank ⌊0.99·9⌋ = 8 → 90 ms; each within α = 1%.
        Assert.InRange(service[RedMetrics.LatencyP50].Value, 49.5, 50.5);
        Assert.InRange(service[RedMetrics.LatencyP99].Value, 89.1, 90.9);
        Assert.All(points, p => Assert.Equal(Epoch, p.TimestampMs));
        Assert.Contains(points, p => p.Series == new SeriesKey("checkout", RedMetrics.Requests, "operation=POST /pay"));
    }

    [Fact]
    public void EdgeSeriesAreKeyedByCallerWithTheCalleeLabel()
    {
        var agg = NewAggregator();
        agg.Observe(Make("payment", SpanKind.Client, 1, 1, 0, Epoch + 100, 40, error: true, db: "postgresql"));
        var points = agg.AdvanceTo(Epoch + 15_000);

        var errors = Assert.Single(points, p => p.Series == new SeriesKey("payment", RedMetrics.Errors, "callee=db:postgresql"));
        Assert.Equal(1.0, errors.Value);
        Assert.Equal("db:postgresql", RedMetrics.NodeOf(errors.Series));
        Assert.True(agg.Graph.TryGetEdge("payment", "db:postgresql", out var edge));
        Assert.Equal(1.0, edge.ErrorRate);
        Assert.InRange(edge.LatencyP99Ms, 39.6, 40.4);
    }

    [Fact]
    public void ExemplarsOfABucketNameTheSlowestAndTheFailedTraces()
    {
        var agg = NewAggregator();
        agg.Observe(Make("cart", SpanKind.Server, 0xA, 1, 0, Epoch + 100, 10));
        agg.Observe(Make("cart", SpanKind.Server, 0xB, 2, 0, Epoch + 200, 900));
        agg.Observe(Make("cart", SpanKind.Server, 0xC, 3, 0, Epoch + 300, 15, error: true));
        agg.AdvanceTo(Epoch + 15_000);

        var ids = agg.GetExemplarTraceIds(new SeriesKey("cart", RedMetrics.LatencyP99), Epoch + 5_000);
        Assert.Equal(["0000000000000000000000000000000b", "0000000000000000000000000000000c"], ids);
        Assert.Empty(agg.GetExemplarTraceIds(new SeriesKey("cart", RedMetrics.LatencyP99), Epoch + 20_000));
    }

    [Fact]
    public void ASpanForAnAlreadyClosedBucketIsCountedLate()
    {
        var agg = NewAggregator();
        agg.Observe(Make("cart", SpanKind.Server, 1, 1, 0, Epoch + 100, 10));
        agg.AdvanceTo(Epoch + 15_000);
        agg.Observe(Make("cart", SpanKind.Server, 2, 2, 0, Epoch + 200, 10));
        Assert.Equal(1, agg.Counters.Late);
    }

    [Fact]
    public void MalformedAndFarFutureSpansAreCountedNotThrown()
    {
        var agg = NewAggregator();
        agg.Observe(Make("", SpanKind.Server, 1, 1, 0, Epoch, 10));
        agg.Observe(Make("cart", SpanKind.Server, 1, 1, 0, Epoch, -5));
        agg.AdvanceTo(Epoch);
        agg.Observe(Make("cart", SpanKind.Server, 2, 2, 0, Epoch + (11 * 60_000), 5));
        Assert.Equal(2, agg.Counters.Invalid);
        Assert.Equal(1, agg.Counters.Future);
        Assert.Equal(0, agg.SeriesCount);
    }

    [Fact]
    public void EdgesAndNodesAgeOutAfterTheIdleTimeAndComeBackWithTraffic()
    {
        var agg = NewAggregator();
        agg.Observe(Make("payment", SpanKind.Client, 1, 1, 0, Epoch, 5, db: "postgresql"));
        agg.AdvanceTo(Epoch + 59_000);
        Assert.Equal(1, agg.Graph.EdgeCount);

        // Last traffic ended at E + 5 ms; 60 s idle later the edge and both nodes go.
        agg.AdvanceTo(Epoch + 70_000);
        Assert.Equal(0, agg.Graph.EdgeCount);
        Assert.Equal(0, agg.Graph.NodeCount);

        agg.Observe(Make("payment", SpanKind.Client, 2, 2, 0, Epoch + 71_000, 5, db: "postgresql"));
        Assert.True(agg.Graph.TryGetEdge("payment", "db:postgresql", out _));
    }

    [Fact]
    public void EmptyBucketsOfAnActiveSeriesReportZeroThroughput()
    {
        var agg = NewAggregator();
        agg.Observe(Make("cart", SpanKind.Server, 1, 1, 0, Epoch + 100, 10));
        var points = agg.AdvanceTo(Epoch + 35_000);
        // Buckets E, E+10 s and E+20 s closed (E+20 s ends at E+30 s + 5 s wait): the later two are empty.
        var rates = points.Where(p => p.Series == new SeriesKey("cart", RedMetrics.Requests)).Select(p => (p.TimestampMs - Epoch, p.Value)).ToList();
        Assert.Equal([(0L, 0.1), (10_000L, 0.0), (20_000L, 0.0)], rates);
    }

    [Fact]
    public void AVersionChangeOnAnInstanceIsRecordedOnItsNode()
    {
        var agg = NewAggregator();
        agg.Observe(Make("cart", SpanKind.Server, 1, 1, 0, Epoch, 10, instance: "cart-1", version: "1.4.1"));
        agg.Observe(Make("cart", SpanKind.Server, 2, 2, 0, Epoch + 1_000, 10, instance: "cart-2", version: "1.4.1"));
        agg.Observe(Make("cart", SpanKind.Server, 3, 3, 0, Epoch + 20_000, 10, instance: "cart-1", version: "1.5.0"));

        Assert.True(agg.Graph.TryGetNode("cart", out var node));
        Assert.Equal("1.5.0", node.LatestVersion);
        Assert.Equal("1.4.1", node.PreviousVersion);
        Assert.Equal(Epoch + 20_010, node.LastVersionChangeMs); // span end time
        Assert.Equal(2, node.Instances.Count);
        Assert.Equal("1.4.1", node.Instances["cart-2"].Version);
    }

    [Fact]
    public void PerInstanceSeriesAreEmittedForReplicas()
    {
        var agg = NewAggregator();
        agg.Observe(Make("cart", SpanKind.Server, 1, 1, 0, Epoch, 10, instance: "cart-1"));
        agg.Observe(Make("cart", SpanKind.Server, 2, 2, 0, Epoch, 500, instance: "cart-2"));
        var points = agg.AdvanceTo(Epoch + 15_000);
        var slow = Assert.Single(points, p => p.Series == new SeriesKey("cart", RedMetrics.LatencyP99, "instance=cart-2"));
        Assert.InRange(slow.Value, 495, 505);
    }
}
