using Aiops.Core;
using Aiops.Pipeline.Repartition;
using Aiops.Simulation;
using Aiops.Topology;

namespace Aiops.Pipeline.Tests;

public sealed class RepartitionedPipelineTests
{
    private const long Hour = 3_600_000;
    private const long Minute = 60_000;

    /// <summary>Monday 08:00 UTC (daytime traffic), as in <see cref="EventTimePipelineTests"/>.</summary>
    private const long Start = ScenarioOptions.DefaultStartMs + (8 * Hour);

    /// <summary>3 h of warm-up, then a 30-minute fault: enough for the detectors to learn every series.</summary>
    internal static ScenarioOptions Scenario(FaultKind kind, string target, string? instance) => new()
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
    private static (List<string> Events, RepartitionedPipeline Pipeline) RunSplit(ScenarioOptions scenario, int inputs, int red, PipelineOptions? options = null, Action<PipelineTrace>? trace = null)
    {
        var pipeline = new RepartitionedPipeline(options ?? new PipelineOptions(), inputs, red) { Trace = trace };
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

    /// <summary>
    /// Three SLOs the two faults burn (one rule, 10 min and 2 min windows at ≥ 3×): the bad replica
    /// fails 10 % of its half of cart's requests (5 % against a 1 % budget: 5×); the slow database
    /// multiplies product-catalog's 3 ms queries by 8, so its ~6 ms requests pass 15 ms (budget 5 %).
    /// Without a fault cart fails 0.05 % (0.05×), so nothing fires before the fault.
    /// </summary>
    internal static PipelineOptions SloOptions() => new()
    {
        Slo = new SloOptions
        {
            Objectives =
            [
                new SloDefinition { Name = "cart-availability", Service = "cart", Kind = SliKind.Availability, Objective = 0.99 },
                new SloDefinition { Name = "catalog-latency", Service = "product-catalog", Kind = SliKind.Latency, Objective = 0.95, LatencyThresholdMs = 15 },
                new SloDefinition { Name = "getproduct-latency", Service = "product-catalog", Operation = "GetProduct", Kind = SliKind.Latency, Objective = 0.95, LatencyThresholdMs = 15 },
            ],
            Rules = [new BurnRateRule { LongWindowMs = 10 * Minute, ShortWindowMs = 2 * Minute, BurnRate = 3 }],
        },
    };

    /// <summary>Collects the forwarded burn-rate alerts, every field that shapes an incident.</summary>
    private static void CollectBurnRate(PipelineTrace trace, List<string> alerts)
    {
        if (trace.Fate == TraceFate.Forwarded && trace.Verdict is { Detector: DetectorKind.BurnRate } a)
        {
            alerts.Add(FormattableString.Invariant($"{a.Series}|{a.TimestampMs}|{a.SinceMs}|{a.Observed:R}|{a.Upper:R}|{a.Score:R}|{a.Detail}"));
        }
    }

    [Theory]
    [InlineData(FaultKind.SlowDatabase, "db:postgresql", null, 3, 2)]
    [InlineData(FaultKind.BadReplica, "cart", "cart-2", 2, 1)]
    [InlineData(FaultKind.BadReplica, "cart", "cart-2", 3, 3)]
    public void WithSlosSplittingTheInputGivesExactlyTheBurnRateSignalsAndIncidentsOfOnePipeline(FaultKind kind, string target, string? instance, int inputs, int red)
    {
        var scenario = Scenario(kind, target, instance);
        var singleAlerts = new List<string>();
        var splitAlerts = new List<string>();
        var single = EventTimePipelineTests.Run(scenario, SloOptions(), t => CollectBurnRate(t, singleAlerts)).Events.ConvertAll(Describe);
        var (split, _) = RunSplit(scenario, inputs, red, SloOptions(), t => CollectBurnRate(t, splitAlerts));

        // Every burn-rate alert, field for field (sorted: RED partitions forward in their own
        // order): one computed on a partition's share would have another observed value, or come
        // once per partition.
        Assert.NotEmpty(singleAlerts);
        singleAlerts.Sort(StringComparer.Ordinal);
        splitAlerts.Sort(StringComparer.Ordinal);
        Assert.Equal(singleAlerts, splitAlerts);

        // And the alerts reach the incidents (their series in the evidence) exactly as in one pipeline.
        Assert.Contains(single, e => e.Contains(":" + nameof(DetectorKind.BurnRate) + ":", StringComparison.Ordinal));
        Assert.Equal(single, split);
    }

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
