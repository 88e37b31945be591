using System.Globalization;
using Aiops.Ingestion.Otlp;
using Aiops.Pipeline;
using Aiops.Pipeline.Repartition;
using Aiops.Simulation;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.Tests;

/// <summary>
/// <c>Repartition:Enabled</c> with <c>Checkpoint:Enabled</c> on the mock cluster: a worker stopped
/// mid-stream and a new one started in the same group continue with the stages' saved baselines,
/// kept in either store of <c>Checkpoint:Store</c> (the shared directory or the compacted state topic).
/// </summary>
public sealed class RepartitionCheckpointTests : IClassFixture<BrokerFixture>
{
    internal const int InputPartitions = 3;
    internal const int RedPartitions = 2;

    /// <summary>Partitions of the state topic with <c>Checkpoint:Store=Topic</c>: the default <c>Repartition:StatePartitions</c>.</summary>
    internal const int StatePartitions = 12;

    private readonly BrokerFixture _fixture;

    public RepartitionCheckpointTests(BrokerFixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("Directory")]
    [InlineData("Topic")]
    public async Task AWorkerRestartedMidStreamEndsWithTheResourceBaselinesOfAnUninterruptedRunAndNoDuplicateIncident(string store)
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync(InputPartitions);
        string suffix = topics.Group[2..];

        // The scenario of EndToEndTests (seed 7, CPU saturation on one service after 85 minutes).
        var batches = new ShopSimulator(EndToEndTests.DemoScenario()).Batches().ToList();

        // Two groups read the same input topics, each with its own internal topics and incidents topic:
        // "restarted" (one worker for the first half, another for the rest) and "reference" (one worker throughout).
        var restarted = WithStore(Settings(topics, topics.Group, suffix, topics.Incidents), store);
        var referenceGroup = topics.Group + "-ref";
        var referenceIncidents = topics.Incidents + "-ref";
        var reference = WithStore(Settings(topics, referenceGroup, suffix + "-ref", referenceIncidents), store);
        await _fixture.Broker.CreateTopicsAsync([
            ("red-" + suffix, RedPartitions), ("verdicts-" + suffix, 1),
            ("red-" + suffix + "-ref", RedPartitions), ("verdicts-" + suffix + "-ref", 1), (referenceIncidents, 1)]);
        if (store == "Topic")
        {
            // The mock answers no CreateTopics request (the worker would stop, naming the topic): made here, 12 partitions as configured.
            await _fixture.Broker.CreateTopicsAsync([("state-" + suffix, StatePartitions), ("state-" + suffix + "-ref", StatePartitions)]);
        }

        using var watcher = new IncidentWatcher(_fixture.Broker.BootstrapServers, topics.Incidents);
        using var referenceWatcher = new IncidentWatcher(_fixture.Broker.BootstrapServers, referenceIncidents);
        var referenceWorker = await RunningWorker.StartAsync(reference, CoreServices.Register);
        var first = await RunningWorker.StartAsync(restarted, CoreServices.Register);
        int half = batches.Count / 2;
        Produce(topics, batches.Take(half));
        await UntilCommittedAsync(topics, topics.Group, "the first worker to read the first half", first);
        await first.DisposeAsync();

        // The second worker loads the saved stages on assignment and goes on from the offsets they cover.
        await using var second = await RunningWorker.StartAsync(restarted, CoreServices.Register);
        const int all = (2 * InputPartitions) + RedPartitions + 1;
        await Wait.UntilAsync(() => second.Metrics.AssignedPartitions == all, () => $"the second worker to hold the {all} partitions ({second.Metrics.AssignedPartitions})", TimeSpan.FromSeconds(60));
        Produce(topics, batches.Skip(half));
        await UntilCommittedAsync(topics, topics.Group, "the second worker to read the rest", second);
        await UntilCommittedAsync(topics, referenceGroup, "the reference worker to read everything", referenceWorker);

        // Every incident the one-process pipeline opens up to 10 simulated minutes into the fault
        // (as RepartitionWorkerTests judges) reaches both incidents topics before the workers stop.
        var expected = RepartitionWorkerTests.OnePipelineEvents(batches);
        long judgedUntilMs = Assert.Single(new ShopSimulator(EndToEndTests.DemoScenario()).GroundTruth.Faults).StartMs + (10 * 60_000L);
        var expectedOpens = expected.Where(e => e.Kind == IncidentEventKind.Open && e.OpenedAtMs < judgedUntilMs).Select(static e => e.IncidentId).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(expectedOpens);
        await Wait.UntilAsync(
            () => expectedOpens.All(id => watcher.Messages.Any(m => m.IncidentId == id && m.Event == "open") && referenceWatcher.Messages.Any(m => m.IncidentId == id && m.Event == "open")),
            () => $"the {expectedOpens.Count} incidents of the one-process pipeline in both groups ({watcher.Messages.Count} and {referenceWatcher.Messages.Count} messages so far)",
            TimeSpan.FromSeconds(90));

        // Stopping saves every stage (revocation); the saved states are then read back through
        // each worker's own store (the group's files, or the state topic) and compared byte for byte.
        await second.StopAsync();
        await referenceWorker.StopAsync();
        var restartedStore = second.Services.GetRequiredService<IPartitionStateStore>();
        var referenceStore = referenceWorker.Services.GetRequiredService<IPartitionStateStore>();
        Assert.Equal(store == "Topic" ? typeof(TopicPartitionStore) : typeof(DirectoryPartitionStore), restartedStore.GetType());
        for (int p = 0; p < InputPartitions; p++)
        {
            var expectedState = referenceStore.Load(new TopicPartition(topics.Metrics, p));
            var actualState = restartedStore.Load(new TopicPartition(topics.Metrics, p));
            Assert.NotNull(expectedState);
            Assert.NotNull(actualState);
            Assert.True(expectedState.Length > 1000, $"metrics partition {p} holds resource baselines ({expectedState.Length} bytes)");
            Assert.Equal(expectedState, actualState);
        }

        await referenceWorker.DisposeAsync();

        // No incident event written twice; the judged incidents opened are those of the uninterrupted run.
        var events = watcher.Messages.Select(static m => (m.IncidentId, m.Event, m.EventTimeMs)).ToList();
        Assert.Equal(events.Count, events.Distinct().Count());
        Assert.Equal(expectedOpens, watcher.Messages.Where(m => m.Event == "open" && m.OpenedAtMs < judgedUntilMs).Select(static m => m.IncidentId).Order(StringComparer.Ordinal));
        Assert.Equal(expectedOpens, referenceWatcher.Messages.Where(m => m.Event == "open" && m.OpenedAtMs < judgedUntilMs).Select(static m => m.IncidentId).Order(StringComparer.Ordinal));
    }

    /// <summary>A repartitioned worker's settings: <paramref name="group"/>, <paramref name="incidents"/>, internal topics <c>red-</c>, <c>verdicts-</c> and <c>state-</c> + <paramref name="suffix"/> (two RED partitions).</summary>
    internal static Dictionary<string, string?> Settings(TestTopics topics, string group, string suffix, string incidents)
    {
        var settings = topics.Settings("OtlpProtobuf");
        settings["Kafka:GroupId"] = group;
        settings["Kafka:IncidentsTopic"] = incidents;
        settings["Repartition:Enabled"] = "true";
        settings["Repartition:RedTopic"] = "red-" + suffix;
        settings["Repartition:RedPartitions"] = RedPartitions.ToString(CultureInfo.InvariantCulture);
        settings["Repartition:VerdictsTopic"] = "verdicts-" + suffix;
        settings["Repartition:StateTopic"] = "state-" + suffix;
        return settings;
    }

    /// <summary>
    /// <c>Checkpoint:Store</c> = <paramref name="store"/>. The topic store needs <c>Scope=Partition</c>
    /// (the options validator refuses it otherwise) and keeps the states in the <c>state-</c> topic of
    /// <see cref="Settings"/>, which the caller creates on the mock cluster with <see cref="StatePartitions"/> partitions.
    /// </summary>
    internal static Dictionary<string, string?> WithStore(Dictionary<string, string?> settings, string store)
    {
        settings["Checkpoint:Store"] = store;
        if (store == "Topic")
        {
            settings["Checkpoint:Scope"] = "Partition";
        }

        return settings;
    }

    /// <summary>
    /// As the Collector's exporter keys them: spans by trace id, metric points by resource; batch by
    /// batch, each batch's metrics then its spans, so the input partitions advance together in event
    /// time. (All metrics first let a worker find a span partition caught up while the metrics ran an
    /// hour ahead, advance it idle to their watermark and count the spans written next late.)
    /// </summary>
    internal static void Produce(TestTopics topics, IEnumerable<SimulationBatch> batches)
    {
        var records = new List<(TopicPartition Partition, byte[] Value)>();
        foreach (var batch in batches)
        {
            foreach (var group in batch.Metrics.GroupBy(p => StageSources.PartitionOf(p.Series.Service, InputPartitions)))
            {
                records.Add((new TopicPartition(topics.Metrics, group.Key), OtlpProtobufEncoder.EncodeMetricPoints([.. group])));
            }

            foreach (var group in batch.Spans.GroupBy(s => (int)(s.TraceId % InputPartitions)))
            {
                records.Add((new TopicPartition(topics.Spans, group.Key), OtlpProtobufEncoder.EncodeSpans([.. group])));
            }
        }

        var config = new ProducerConfig { BootstrapServers = topics.Broker.BootstrapServers, EnableIdempotence = true, LingerMs = 5 };
        using var producer = new ProducerBuilder<byte[]?, byte[]>(config).SetLogHandler(static (_, _) => { }).Build();
        foreach (var (partition, value) in records)
        {
            producer.Produce(partition, new Message<byte[]?, byte[]> { Value = value });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Waits until <paramref name="group"/> committed every input partition (metrics and spans) to its end.</summary>
    internal static Task UntilCommittedAsync(TestTopics topics, string group, string what, RunningWorker worker)
    {
        return Wait.UntilAsync(
            () => Committed(topics, group, topics.Metrics, InputPartitions).SequenceEqual(topics.EndOffsets(topics.Metrics, InputPartitions))
                && Committed(topics, group, topics.Spans, InputPartitions).SequenceEqual(topics.EndOffsets(topics.Spans, InputPartitions)),
            () => $"{what} (records {worker.Metrics.Records}, dead letters {worker.Metrics.DeadLetters}, partitions {worker.Metrics.AssignedPartitions}, health {worker.Services.GetRequiredService<Aiops.Worker.Telemetry.WorkerHealth>().CheckHealthAsync(new()).Result.Description}; committed metrics {string.Join(',', Committed(topics, group, topics.Metrics, InputPartitions))} spans {string.Join(',', Committed(topics, group, topics.Spans, InputPartitions))}; ends {string.Join(',', topics.EndOffsets(topics.Metrics, InputPartitions))} / {string.Join(',', topics.EndOffsets(topics.Spans, InputPartitions))})",
            TimeSpan.FromSeconds(60));
    }

    /// <summary><paramref name="group"/>'s committed offset of partitions 0..<paramref name="partitions"/>-1 of <paramref name="topic"/> (-1001 when none).</summary>
    internal static long[] Committed(TestTopics topics, string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = topics.Broker.BootstrapServers, GroupId = group, EnableAutoCommit = false }).Build();
        return [.. consumer.Committed([.. Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p))], TimeSpan.FromSeconds(10)).Select(static o => o.Offset.Value)];
    }
}
