using Aiops.Core;
using Aiops.Pipeline.Repartition;
using Aiops.Simulation;

namespace Aiops.Pipeline.Tests;

public sealed class RepartitionedPipelineTests
{
    private const long Hour = 3_600_000;
    private const long Minute = 60_000;

    /// <summary>Monday 08:00 UTC (daytime traffic), as in <see cref="EventTimePipelineTests"/>.</summary>
    private const long Start = ScenarioOptions.DefaultStartMs + (8 * Hour);

    /// <summary>3 h of warm-up, then a 30-minute fault: enough for the detectors to learn every series.</summary>
    private static ScenarioOptions Scenario(FaultKind kind, string target, string? instance) => new()
    {
        Seed = 42,
        StartMs = Start,
        DurationMs = (3 * Hour) + (40 * Minute),
        Faults = [new FaultSpec("f1", kind, target, Start + (3 * Hour), Start + (3 * Hour) + (30 * Minute), Instance: instance)],
    };

    /// <summary>The incident stream of today's single pipeline (the in-process composition without codec).</summary>
    private static List<string> RunSingle(ScenarioOptions scenario) => EventTimePipelineTests.Run(scenario).Events.ConvertAll(Describe);

    /// <summary>
    /// The same data split as the Collector's Kafka exporter keys it: spans by trace id, metric
    /// points by resource (service and instance label) over <paramref name="inputs"/> partitions.
    /// </summary>
    private static (List<string> Events, RepartitionedPipeline Pipeline) RunSplit(ScenarioOptions scenario, int inputs, int red)
    {
        var pipeline = new RepartitionedPipeline(new PipelineOptions(), inputs, red);
        var events = new List<IncidentEvent>();
        foreach (var batch in new ShopSimulator(scenario).Batches())
        {
            foreach (var point in batch.Metrics)
            {
                pipeline.AddMetric(StageSources.PartitionOf(point.Series.Service + "|" + point.Series.Labels, inputs), point);
            }

            foreach (var span in batch.Spans)
            {
                pipeline.AddSpan((int)(span.TraceId % (uint)inputs), span);
            }

            events.AddRange(pipeline.TakeEvents());
        }

        pipeline.Flush();
        events.AddRange(pipeline.TakeEvents());
        return (events.ConvertAll(Describe), pipeline);
    }

    /// <summary>Everything an incident event says that the incidents topic carries: ids, times, ranking, evidence, exemplars.</summary>
    private static string Describe(IncidentEvent e) => string.Join(
        " | ",
        e.Kind,
        e.IncidentId,
        e.TimestampMs,
        e.OpenedAtMs,
        e.Summary,
        string.Join(",", e.AffectedNodes),
        string.Join(",", e.RootCauses.Select(c => $"{c.Rank}:{c.Node}:{c.Score:R}:{c.OnsetMs}:{string.Join("/", c.ExemplarTraceIds)}:{c.Hint}")),
        string.Join(",", e.Anomalies.Select(a => $"{a.Series}:{a.Detector}:{a.TimestampMs}:{a.SinceMs}:{a.Observed:R}:{string.Join("/", a.ExemplarTraceIds)}")));

    [Theory]
    [InlineData(FaultKind.SlowDatabase, "db:postgresql", null, 3, 2)]
    [InlineData(FaultKind.SlowDatabase, "db:postgresql", null, 2, 1)]
    [InlineData(FaultKind.BadReplica, "cart", "cart-2", 3, 3)]
    public void SplittingTheInputByTraceIdGivesExactlyTheIncidentsOfOnePipeline(FaultKind kind, string target, string? instance, int inputs, int red)
    {
        var scenario = Scenario(kind, target, instance);
        var single = RunSingle(scenario);
        var (split, pipeline) = RunSplit(scenario, inputs, red);

        Assert.Contains(single, e => e.StartsWith("Open", StringComparison.Ordinal));
        Assert.Equal(single, split);
        Assert.True(pipeline.InternalBytes > 0);
    }
}
