using Aiops.Core;
using static Aiops.Topology.Tests.Spans;

namespace Aiops.Topology.Tests;

/// <summary>
/// Quiet series (fewer than <see cref="TopologyOptions.MinWindowRequests"/> requests in a bucket)
/// get their error ratio and quantiles over the closed buckets just before, the request rate stays
/// the bucket's own. 10-s buckets, window minimum 10 requests, at most 3 buckets.
/// </summary>
public class RedWindowTests
{
    private const long Width = 10_000;

    private static SpanAggregator NewAggregator(int minWindowRequests = 10) => new(new TopologyOptions
    {
        BucketWidthMs = Width,
        PairingWaitMs = 0,
        IdleTimeoutMs = 60_000,
        MinWindowRequests = minWindowRequests,
        MaxWindowBuckets = 3,
    });

    private static ulong _nextId = 1;

    private static void Serve(SpanAggregator aggregator, int bucket, int count, double durationMs, int errors = 0)
    {
        for (var i = 0; i < count; i++)
        {
            var id = _nextId++;
            aggregator.Observe(Make("email", SpanKind.Server, id, spanId: id, parent: 0, Epoch + (bucket * Width) + (i * 100), durationMs, error: i < errors));
        }
    }

    private static MetricPoint Point(IReadOnlyList<MetricPoint> points, string metric, int bucket) =>
        Assert.Single(points, p => p.Series.Metric == metric && p.Series.Labels.Length == 0 && p.TimestampMs == Epoch + (bucket * Width));

    [Fact]
    public void AQuietBucketTakesInTheBucketsBeforeItUntilTheMinimumIsReached()
    {
        var aggregator = NewAggregator();
        Serve(aggregator, bucket: 0, count: 4, durationMs: 10);
        Serve(aggregator, bucket: 1, count: 6, durationMs: 30, errors: 2);
        var points = aggregator.AdvanceTo(Epoch + (3 * Width));

        // Bucket 1 alone has 6 < 10 requests: with bucket 0 the window holds 10, 2 of them failed.
        var errors = Point(points, RedMetrics.Errors, 1);
        Assert.Equal(10, errors.Total);
        Assert.Equal(0.2, errors.Value, 12);

        // Median of {10 ×4, 30 ×6}: rank ⌊0.5 · 9⌋ = 4 (0-based) is the first 30 ms; ±1% sketch error.
        Assert.Equal(30, Point(points, RedMetrics.LatencyP50, 1).Value, 30 * 0.01);

        // The request rate is the bucket's own: 6 requests in 10 s.
        Assert.Equal(0.6, Point(points, RedMetrics.Requests, 1).Value, 12);
        Assert.Equal(2, aggregator.WindowBucketsOf(new SeriesKey("email", RedMetrics.Errors)));
    }

    [Fact]
    public void ABusyBucketIsComputedFromItselfAlone()
    {
        var aggregator = NewAggregator();
        Serve(aggregator, bucket: 0, count: 4, durationMs: 10, errors: 4);
        Serve(aggregator, bucket: 1, count: 12, durationMs: 30);
        var points = aggregator.AdvanceTo(Epoch + (3 * Width));

        var errors = Point(points, RedMetrics.Errors, 1);
        Assert.Equal(12, errors.Total);
        Assert.Equal(0, errors.Value);
        Assert.Equal(30, Point(points, RedMetrics.LatencyP50, 1).Value, 30 * 0.01);
        Assert.Equal(1, aggregator.WindowBucketsOf(new SeriesKey("email", RedMetrics.Errors)));
    }

    [Fact]
    public void AWindowNeverReachesBackFurtherThanMaxWindowBuckets()
    {
        var aggregator = NewAggregator(minWindowRequests: 100);
        Serve(aggregator, bucket: 0, count: 3, durationMs: 10, errors: 3);
        Serve(aggregator, bucket: 1, count: 3, durationMs: 10);
        Serve(aggregator, bucket: 2, count: 3, durationMs: 10);
        Serve(aggregator, bucket: 3, count: 3, durationMs: 10);
        var points = aggregator.AdvanceTo(Epoch + (5 * Width));

        // Bucket 3's window is buckets 1–3 (3 buckets): bucket 0's failures are out of it.
        var errors = Point(points, RedMetrics.Errors, 3);
        Assert.Equal(9, errors.Total);
        Assert.Equal(0, errors.Value);
        Assert.Equal(3, aggregator.WindowBucketsOf(new SeriesKey("email", RedMetrics.Errors)));

        // Bucket 2's window (buckets 0–2) still holds them: 3 of 9.
        Assert.Equal(3.0 / 9, Point(points, RedMetrics.Errors, 2).Value, 12);
    }
}
