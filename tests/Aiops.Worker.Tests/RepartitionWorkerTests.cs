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

    [Fact]
    public async Task TwoInstancesInOneGroupOpenTheSingleIncidentOfOnePipelineWithTheRightRootCauseAndNoDuplicate()
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
        var expected = OnePipelineEvents(batches);

        // Judged: incidents opened up to 10 simulated minutes into the fault (the data runs 25 more).
        long judgedUntilMs = fault.StartMs + (10 * 60_000L);
        var expectedOpens = expected.Where(e => e.Kind == IncidentEventKind.Open && e.OpenedAtMs < judgedUntilMs).Select(static e => e.IncidentId).ToList();
        var faultIncident = Assert.Single(expected, e => e.Kind == IncidentEventKind.Open && e.OpenedAtMs >= fault.StartMs - (5 * 60_000L) && e.OpenedAtMs < judgedUntilMs);
        Assert.Equal(fault.RootCause, faultIncident.RootCauses[0].Node);

        var settings = RepartitionCheckpointTests.Settings(topics, topics.Group, suffix, topics.Incidents);
        settings["Checkpoint:Enabled"] = "false";
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
    }

    /// <summary>The incident events of one in-process pipeline fed every record of <paramref name="batches"/> (what one instance without repartitioning computes).</summary>
    internal static List<IncidentEvent> OnePipelineEvents(IEnumerable<SimulationBatch> batches)
    {
        var reference = new EventTimePipeline();
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
