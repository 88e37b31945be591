using Aiops.Core;
using Aiops.Ingestion.Otlp;
using Aiops.Pipeline;
using Aiops.Pipeline.Repartition;
using Aiops.Simulation;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Confluent.Kafka;

namespace Aiops.Worker.Tests;

/// <summary><c>Repartition:Enabled</c> on the mock cluster: two instances in one group, spans keyed by trace id over three partitions.</summary>
public sealed class RepartitionWorkerTests : IClassFixture<BrokerFixture>
{
    private const int InputPartitions = 3;
    private const int RedPartitions = 2;

    private readonly BrokerFixture _fixture;

    public RepartitionWorkerTests(BrokerFixture fixture) => _fixture = fixture;

    /// <summary>
    /// With <paramref name="slo"/>, also a latency SLO on the faulted service: 99 % of frontend
    /// requests under 70 ms, one rule (10 min and 2 min at ≥ 6×). Measured on this scenario: 2–3 %
    /// of frontend requests take over 70 ms before the fault (2.5×), about 11 % during it (11×).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TwoInstancesInOneGroupOpenTheSingleIncidentOfOnePipelineWithTheRightRootCauseAndNoDuplicate(bool slo)
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync(InputPartitions);
        string suffix = topics.Group[2..];
        string red = "red-" + suffix;
        string verdicts = "verdicts-" + suffix;
        await _fixture.Broker.CreateTopicsAsync([(red, RedPartitions), (verdicts, 1)]);

        // The scenario of EndToEndTests (seed 7, CPU saturation on one service after 85 minutes).
        var scenario = EndToEndTests.DemoScenario();
        var simulator = new ShopSimulator(scenario);
        var fault = Assert.Single(simulator.GroundTruth.Faults);
        var batches = simulator.Batches().ToList();

        // The reference: one pipeline fed every record (what one instance without repartitioning computes).
        var options = new PipelineOptions();
        if (slo)
        {
            options.Slo = new Aiops.Topology.SloOptions
            {
                Objectives = [new Aiops.Topology.SloDefinition { Name = "frontend-latency", Service = fault.RootCause, Kind = Aiops.Topology.SliKind.Latency, Objective = 0.99, LatencyThresholdMs = 70 }],
                Rules = [new Aiops.Topology.BurnRateRule { LongWindowMs = 600_000, ShortWindowMs = 120_000, BurnRate = 6 }],
            };
        }

        var expected = OnePipelineEvents(batches, options);

        // Judged: incidents opened up to 10 simulated minutes into the fault (the data runs 25 more).
        long judgedUntilMs = fault.StartMs + (10 * 60_000L);
        var expectedOpens = expected.Where(e => e.Kind == IncidentEventKind.Open && e.OpenedAtMs < judgedUntilMs).Select(static e => e.IncidentId).ToList();
        var faultIncident = Assert.Single(expected, e => e.Kind == IncidentEventKind.Open && e.OpenedAtMs >= fault.StartMs - (5 * 60_000L) && e.OpenedAtMs < judgedUntilMs);
        Assert.Equal(fault.RootCause, faultIncident.RootCauses[0].Node);

        var settings = RepartitionCheckpointTests.Settings(topics, topics.Group, suffix, topics.Incidents);
        settings["Checkpoint:Enabled"] = "false";
        if (slo)
        {
            var objective = options.Slo.Objectives[0];
            var rule = options.Slo.Rules[0];
            settings["Pipeline:Slo:Objectives:0:Name"] = objective.Name;
            settings["Pipeline:Slo:Objectives:0:Service"] = objective.Service;
            settings["Pipeline:Slo:Objectives:0:Kind"] = objective.Kind.ToString();
            settings["Pipeline:Slo:Objectives:0:Objective"] = "0.99";
            settings["Pipeline:Slo:Objectives:0:LatencyThresholdMs"] = "70";
            settings["Pipeline:Slo:Rules:0:LongWindowMs"] = rule.LongWindowMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Pipeline:Slo:Rules:0:ShortWindowMs"] = rule.ShortWindowMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["Pipeline:Slo:Rules:0:BurnRate"] = "6";
        }

        using var watcher = new IncidentWatcher(_fixture.Broker.BootstrapServers, topics.Incidents);
        await using var first = await RunningWorker.StartAsync(settings, CoreServices.Register);
        await using var second = await RunningWorker.StartAsync(settings, CoreServices.Register);

        // Both members hold partitions before any record exists, so no rebalance moves a stage mid-stream.
        const int all = (2 * InputPartitions) + RedPartitions + 1;
        await Wait.UntilAsync(
            () => first.Metrics.AssignedPartitions > 0 && second.Metrics.AssignedPartitions > 0 && first.Metrics.AssignedPartitions + second.Metrics.AssignedPartitions == all,
            () => $"both instances to hold the {all} partitions ({first.Metrics.AssignedPartitions} + {second.Metrics.AssignedPartitions})",
            TimeSpan.FromSeconds(60));

        // As the Collector's exporter keys them: spans by trace id, metric points by resource.
        var config = new ProducerConfig { BootstrapServers = _fixture.Broker.BootstrapServers, EnableIdempotence = true, LingerMs = 5 };
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(config).SetLogHandler(static (_, _) => { }).Build())
        {
            foreach (var batch in batches)
            {
                foreach (var group in batch.Metrics.GroupBy(p => StageSources.PartitionOf(p.Series.Service, InputPartitions)))
                {
                    await producer.ProduceAsync(new TopicPartition(topics.Metrics, group.Key), new Message<byte[]?, byte[]> { Value = OtlpProtobufEncoder.EncodeMetricPoints([.. group]) });
                }

                foreach (var group in batch.Spans.GroupBy(s => (int)(s.TraceId % InputPartitions)))
                {
                    await producer.ProduceAsync(new TopicPartition(topics.Spans, group.Key), new Message<byte[]?, byte[]> { Value = OtlpProtobufEncoder.EncodeSpans([.. group]) });
                }
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        await Wait.UntilAsync(
            () => expectedOpens.All(id => watcher.Messages.Any(m => m.IncidentId == id && m.Event == "open")),
            () => $"the {expectedOpens.Count} incidents of the reference pipeline ({watcher.Messages.Count} messages so far)",
            TimeSpan.FromSeconds(90));

        var opened = watcher.Messages.Where(m => m.Event == "open" && m.OpenedAtMs < judgedUntilMs).ToList();
        Assert.Equal(expectedOpens.Order(StringComparer.Ordinal), opened.Select(static m => m.IncidentId).Order(StringComparer.Ordinal));
        var incident = Assert.Single(opened, m => m.IncidentId == faultIncident.IncidentId);
        Assert.Equal(fault.RootCause, incident.RootCauses[0].Service);
        Assert.True(first.Metrics.Records > 0 && second.Metrics.Records > 0, "both instances consumed records");
        if (slo)
        {
            // The SLO reaches the fault incident through the internal topics: each instance's ingest
            // stages send their SLO counts, the frontend's RED partition runs the windows on the
            // sums. The values are not compared with the reference here: on the live-paced topic an
            // input partition read to its end moves to the largest watermark known, so a few spans
            // arrive late and are dropped, for the SLO as for the RED buckets (which is why only the
            // opens are judged above); RepartitionedPipelineTests compares them exactly.
            Assert.Contains(expected, e => e.IncidentId == faultIncident.IncidentId && e.TimestampMs < judgedUntilMs && e.Anomalies.Any(static a => a.Detector == DetectorKind.BurnRate));
            await Wait.UntilAsync(
                () => watcher.Messages.Any(m => m.IncidentId == faultIncident.IncidentId && m.Anomalies.Any(static a => a.Detector == nameof(DetectorKind.BurnRate))),
                () => $"a burn-rate signal in the fault incident ({watcher.Messages.Count} messages so far)",
                TimeSpan.FromSeconds(60));
            var burn = watcher.Messages.Where(m => m.IncidentId == faultIncident.IncidentId).SelectMany(static m => m.Anomalies).First(static a => a.Detector == nameof(DetectorKind.BurnRate));
            Assert.Equal((fault.RootCause, Aiops.Topology.SloMonitor.MetricName, "slo=frontend-latency"), (burn.Service, burn.Metric, burn.Labels));
            Assert.True(burn.Observed >= 6, $"the rule fires at 6x; the alert says {burn.Observed}x");
        }
    }

    /// <summary>The incident events of one in-process pipeline fed every record of <paramref name="batches"/> (what one instance without repartitioning computes).</summary>
    internal static List<IncidentEvent> OnePipelineEvents(IEnumerable<SimulationBatch> batches, PipelineOptions? options = null)
    {
        var reference = new EventTimePipeline(options);
        var events = new List<IncidentEvent>();
        foreach (var batch in batches)
        {
            foreach (var point in batch.Metrics)
            {
                reference.AddMetric(point);
            }

            foreach (var span in batch.Spans)
            {
                reference.AddSpan(span);
            }

            events.AddRange(reference.TakeEvents());
        }

        return events;
    }
}
