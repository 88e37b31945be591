using System.Text;
using Aiops.Core;
using Aiops.Pipeline;
using Aiops.Worker.Hosting;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Aiops.Worker.Telemetry;

namespace Aiops.Worker.Tests;

/// <summary>The worker's series cap on the real pipeline: least recently seen series are evicted and counted.</summary>
public sealed class PipelineProcessorTests
{
    private const long T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    private static PipelineProcessor Processor(int maxSeries) =>
        new(new EventTimePipeline(CoreServices.PipelineOptionsFor(new LimitsOptions { MaxSeries = maxSeries })));

    private static MetricPoint Point(string pod, int minute) =>
        new(new SeriesKey("cart", "cpu", "pod=" + pod), MetricKind.Generic, T0 + (minute * 60_000L), 0.5);

    private static void Feed(PipelineProcessor processor, params MetricPoint[] points) => processor.Process(points, []);

    private static string[] Pods(PipelineProcessor processor) =>
        [.. processor.Pipeline.Detectors.Detectors.Keys.Select(static k => k.Labels).Order(StringComparer.Ordinal)];

    [Fact]
    public void AtTheCapTheLeastRecentlySeenSeriesIsEvictedAndCounted()
    {
        var processor = Processor(maxSeries: 3);

        // a, b, c fill the cap; a is seen again, so b is now the least recently seen, then c.
        Feed(processor, Point("a", 0), Point("b", 0), Point("c", 0), Point("a", 1));
        Feed(processor, Point("d", 1));
        Assert.Equal(["pod=a", "pod=c", "pod=d"], Pods(processor));
        Feed(processor, Point("e", 1));
        Assert.Equal(["pod=a", "pod=d", "pod=e"], Pods(processor));

        Assert.Equal(3, processor.SeriesCount);
        Assert.Equal(2, processor.EvictedSeries);
        Assert.Equal(0, processor.Pipeline.Counters.Rejected);
    }

    [Fact]
    public void ARestoredCheckpointEvictsInTheSameOrderAsTheProcessThatWroteIt()
    {
        var original = Processor(maxSeries: 3);
        Feed(original, Point("a", 0), Point("b", 0), Point("c", 0), Point("a", 1), Point("b", 1));
        using var snapshot = new MemoryStream();
        original.SaveState(snapshot);
        snapshot.Position = 0;
        var restored = Processor(maxSeries: 3);
        restored.RestoreState(snapshot);

        // Recency after the feed above: b, a, c (most recent first), so c goes first in both.
        Feed(original, Point("d", 2));
        Feed(restored, Point("d", 2));
        Assert.Equal(["pod=a", "pod=b", "pod=d"], Pods(original));
        Assert.Equal(Pods(original), Pods(restored));
    }

    [Fact]
    public void TheEvictionCounterAndTheCapAreExposedAsPrometheusMetrics()
    {
        var processor = Processor(maxSeries: 2);
        Feed(processor, Point("a", 0), Point("b", 0), Point("c", 0), Point("d", 0), Point("e", 0));
        var metrics = new WorkerMetrics();
        metrics.SetSeriesLimit(2);
        metrics.SetState(processor.SeriesCount, processor.EvictedSeries, processor.AnomalyCount, lag: 0);
        var text = new StringBuilder();
        metrics.WritePrometheus(text);

        // Five series through a cap of two: three evicted, two kept.
        Assert.Contains("aiops_series_evicted_total 3\n", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("aiops_series 2\n", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("aiops_series_limit 2\n", text.ToString(), StringComparison.Ordinal);
    }
}
