using Aiops.Core;
using Aiops.Pipeline;
using Aiops.Simulation;

namespace Aiops.Pipeline.Tests;

public sealed class EventTimePipelineTests
{
    private const long Hour = 3_600_000;

    /// <summary>Monday 08:00 UTC: daytime traffic, so every service sees enough requests per minute.</summary>
    private const long Start = ScenarioOptions.DefaultStartMs + (8 * Hour);

    /// <summary>3 h of warm-up (180 one-minute points per series), then a 30-minute slow database.</summary>
    private static ScenarioOptions SlowDatabase() => new()
    {
        Seed = 42,
        StartMs = Start,
        DurationMs = (3 * Hour) + (40 * 60_000),
        Faults = [new FaultSpec("f1", FaultKind.SlowDatabase, ShopSimulator.DatabaseNode, Start + (3 * Hour), Start + (3 * Hour) + (30 * 60_000))],
    };

    internal static (List<IncidentEvent> Events, EventTimePipeline Pipeline) Run(ScenarioOptions scenario, PipelineOptions? options = null, Action<PipelineTrace>? trace = null)
    {
        var pipeline = new EventTimePipeline(options) { Trace = trace };
        var events = new List<IncidentEvent>();
        foreach (var batch in new ShopSimulator(scenario).Batches())
        {
            foreach (var point in batch.Metrics)
            {
                pipeline.AddMetric(point);
            }

            foreach (var span in batch.Spans)
            {
                pipeline.AddSpan(span);
            }

            events.AddRange(pipeline.TakeEvents());
        }

        pipeline.Flush();
        events.AddRange(pipeline.TakeEvents());
        return (events, pipeline);
    }

    [Fact]
    public void APlantedSlowDatabaseOpensOneIncidentWithTheDatabaseRankedFirst()
    {
        var scenario = SlowDatabase();
        var (events, pipeline) = Run(scenario);

        var opened = events.Where(e => e.Kind == IncidentEventKind.Open).ToList();
        var incident = Assert.Single(opened);
        Assert.InRange(incident.TimestampMs, scenario.Faults[0].StartMs, scenario.Faults[0].EndMs);

        // The latest ranking of that incident names the planted root cause first.
        var last = events.Last(e => e.IncidentId == incident.IncidentId && e.RootCauses.Count > 0);
        Assert.Equal(ShopSimulator.DatabaseNode, last.RootCauses[0].Node);
        Assert.Equal(1, last.RootCauses[0].Rank);
        Assert.NotEmpty(last.RootCauses[0].Evidence);
        Assert.Equal(1, pipeline.Counters.Incidents);
    }

    [Fact]
    public void FeedingTheSameDataTwiceYieldsTheSameIncidentIds()
    {
        var first = Run(SlowDatabase()).Events.Select(e => (e.Kind, e.IncidentId, e.TimestampMs)).ToList();
        var second = Run(SlowDatabase()).Events.Select(e => (e.Kind, e.IncidentId, e.TimestampMs)).ToList();

        Assert.NotEmpty(first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void AFaultFreeRunOpensNoIncident()
    {
        var (events, pipeline) = Run(new ScenarioOptions { Seed = 7, StartMs = Start, DurationMs = 4 * Hour });

        var opened = events.Where(e => e.Kind == IncidentEventKind.Open).ToList();
        Assert.True(opened.Count == 0, string.Join("\n", opened.Select(e => $"{e.TimestampMs - Start} {e.Summary} " + string.Join(" | ", e.Anomalies.Select(a => $"{a.Series} {a.Detector} {a.Observed:0.###} exp {a.Expected:0.###} s={a.Score:0.00}")))));

        // The run did flow through every stage: spans, RED and resource series, detectors.
        Assert.True(pipeline.Counters.Spans > 100_000, "4 h at ≥ 0.55 × 60 traces/min × ~12 spans");
        Assert.True(pipeline.Counters.Series > 100, "RED series of 11 services, their edges and replicas, plus CPU/memory");
    }

    [Fact]
    public void BadRecordsAreCountedAndDroppedNotThrown()
    {
        var pipeline = new EventTimePipeline();
        var good = new SpanRecord
        {
            TraceId = 1,
            SpanId = 2,
            Service = "cart",
            Name = "GetCart",
            Kind = SpanKind.Server,
            StartUnixNanos = Start * 1_000_000,
            EndUnixNanos = (Start + 5) * 1_000_000,
        };

        Assert.True(pipeline.AddSpan(good));
        Assert.False(pipeline.AddSpan(good with { EndUnixNanos = good.StartUnixNanos - 1 }));
        Assert.False(pipeline.AddSpan(good with { SpanId = 0 }));
        Assert.False(pipeline.AddSpan(good with { Service = "" }));
        Assert.False(pipeline.AddMetric(new MetricPoint(new SeriesKey("cart", "process.cpu.utilization"), MetricKind.Saturation, Start, double.NaN)));
        Assert.True(pipeline.AddMetric(new MetricPoint(new SeriesKey("cart", "process.cpu.utilization"), MetricKind.Saturation, Start, 0.2)));

        Assert.Equal(1, pipeline.Counters.Spans);
        Assert.Equal(1, pipeline.Counters.Points);
        Assert.Equal(4, pipeline.Counters.Rejected);
    }

    [Fact]
    public void ASnapshotRestoresCountersAndEverySeriesDetector()
    {
        var scenario = new ScenarioOptions { Seed = 3, StartMs = Start, DurationMs = 30 * 60_000 };
        var (_, pipeline) = Run(scenario);
        using var stream = new MemoryStream();
        pipeline.WriteSnapshot(stream);

        stream.Position = 0;
        var restored = new EventTimePipeline();
        restored.RestoreSnapshot(stream);

        Assert.Equal(pipeline.Counters, restored.Counters);
        Assert.Equal(pipeline.WatermarkMs, restored.WatermarkMs);
        Assert.Equal(pipeline.Detectors.Detectors.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal).ToList(), restored.Detectors.Detectors.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void ASnapshotOfSomethingElseIsRejectedWithAClearReason()
    {
        using var stream = new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8]);

        var error = Assert.Throws<InvalidDataException>(() => new EventTimePipeline().RestoreSnapshot(stream));

        Assert.Contains("Not a pipeline snapshot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOptionOutOfRangeIsNamedWhenThePipelineIsBuilt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new EventTimePipeline(new PipelineOptions { ConfirmPoints = 0 }));

        Assert.Equal(nameof(PipelineOptions.ConfirmPoints), error.ParamName);
    }
}
