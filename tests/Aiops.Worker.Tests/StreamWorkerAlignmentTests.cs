using Aiops.Pipeline;
using Aiops.Simulation;
using Aiops.Worker.Cli;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.Tests;

/// <summary>
/// A backlog on the embedded broker: two simulated hours of shop telemetry with a planted slow
/// database, produced before any worker starts, read by a new group from the earliest offsets. The
/// metrics topic has one small record per simulated minute, the spans topic two to four big ones,
/// so a fetch brings hours of metrics and minutes of spans: the catch-up of issue 4's bug.
/// </summary>
public sealed class StreamWorkerAlignmentTests : IClassFixture<BacklogFixture>
{
    private readonly BacklogFixture _backlog;

    public StreamWorkerAlignmentTests(BacklogFixture backlog) => _backlog = backlog;

    [Fact]
    public async Task ABacklogReadFromEarliestLosesNoSpanAndGivesTheIncidentOfTheLivePacedRun()
    {
        // The idle wait is a wall-clock bound: on a test machine loaded by parallel builds a fetch can
        // take longer than the default 1 s, and the records handed over without waiting could then be
        // late for a reason that is not the order. 30 s leaves the order alone to decide.
        var run = await _backlog.RunWorkerAsync(align: true, idleWaitMs: 30_000);

        Assert.Equal(0, run.LateSpans);
        var incident = Assert.Single(_backlog.DuringFault(run.Incidents));
        Assert.Equal(_backlog.Fault.RootCause, incident.RootCauses[0].Service);

        // The live-paced run: the same records through the same pipeline in event-time order.
        Assert.Equal(_backlog.Reference.IncidentId, incident.IncidentId);
        Assert.Equal(_backlog.Reference.RootCauses[0].Service, incident.RootCauses[0].Service);
    }

    [Fact]
    public async Task WithoutAlignmentTheSameBacklogDropsSpansAsLate()
    {
        // The contrast that shows the backlog above does provoke the bug it guards against.
        var run = await _backlog.RunWorkerAsync(align: false, idleWaitMs: 1_000);

        Assert.True(run.LateSpans > _backlog.Workload.Spans / 10, $"{run.LateSpans} of {_backlog.Workload.Spans} spans late without alignment; expected the metrics topic to run far ahead");
    }

    [Fact]
    public async Task AnEmptyPartitionDoesNotHoldTheOthersBack()
    {
        // Partition 1 of the metrics topic never gets a record. With a 10-minute idle wait, a
        // worker that waited for it would not finish within the run's 60 s limit; its cached high
        // watermark (0) says it is at its end, so nothing waits for it.
        var run = await _backlog.RunWorkerAsync(align: true, idleWaitMs: 600_000);

        Assert.Equal(_backlog.Workload.Spans, run.Spans);
        Assert.Equal(0, run.LateSpans);
    }
}

/// <summary>The backlog (produced once per class) and the incident the live-paced run gives.</summary>
public sealed class BacklogFixture : IAsyncLifetime
{
    private EmbeddedBroker? _broker;

    internal EmbeddedBroker Broker => _broker ?? throw new InvalidOperationException("Not initialised.");

    internal BenchCommand.Workload Workload { get; private set; } = null!;

    internal GroundTruthFault Fault { get; private set; } = null!;

    internal IncidentMessage Reference { get; private set; } = null!;

    internal string MetricsTopic { get; } = "backlog-m-" + Guid.NewGuid().ToString("N")[..8];

    internal string SpansTopic { get; } = "backlog-s-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        _broker = EmbeddedBroker.Start();

        // The EndToEndTests scenario with a slow database (uninstrumented: seen only through the
        // spans' RED series of its clients): 85 minutes of warm-up, 20 of fault, 15 of recovery.
        var scenario = FaultSuite.Standard(7, FaultKinds.All.Count, new SuiteOptions
        {
            WarmUpMs = 85 * 60_000L,
            FaultMs = DemoSettings.FaultMinutes * 60_000L,
            RecoveryMs = DemoSettings.RecoveryMinutes * 60_000L,
        }).First(static c => c.Kind == FaultKind.SlowDatabase).Scenario;
        var simulator = new ShopSimulator(scenario);
        Fault = Assert.Single(simulator.GroundTruth.Faults);
        Workload = BenchCommand.Workload.Encode(simulator);

        // The live-paced run: records decoded and fed in event-time order, each record's spans then
        // its points, as the worker feeds them, into the worker's own pipeline settings.
        var pipeline = new EventTimePipeline(CoreServices.PipelineOptionsFor(new LimitsOptions()));
        var decoded = Workload.Decode();
        BenchCommand.Feed(pipeline, decoded, decoded.Count);
        Assert.Equal(0, pipeline.TopologyCounters.Late);
        var reference = DuringFault(pipeline.TakeEvents().Select(PipelineProcessor.ToMessage).ToList());
        Reference = Assert.Single(reference);
        Assert.Equal(Fault.RootCause, Reference.RootCauses[0].Service);

        await Broker.CreateTopicsAsync([(MetricsTopic, 2), (SpansTopic, 2)]);
        Produce();
    }

    public Task DisposeAsync()
    {
        _broker?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>The opening messages of incidents opened from 5 minutes before the fault to 10 minutes into it that involve its target (as EndToEndTests judges them).</summary>
    internal List<IncidentMessage> DuringFault(IReadOnlyList<IncidentMessage> messages)
    {
        var judgedUntilMs = Fault.StartMs + (10 * 60_000L);
        return [.. messages
            .Where(m => m.Event == "open" && m.OpenedAtMs >= Fault.StartMs - (5 * 60_000L) && m.OpenedAtMs < judgedUntilMs)
            .Where(m => m.Services.Contains(Fault.RootCause) || m.RootCauses.Any(c => c.Service == Fault.RootCause))];
    }

    /// <summary>Starts a worker on a new group from the earliest offsets and lets it read the whole backlog.</summary>
    internal async Task<BacklogRun> RunWorkerAsync(bool align, int idleWaitMs)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var incidents = "backlog-inc-" + suffix;
        await Broker.CreateTopicsAsync([(incidents, 1), ("backlog-dlq-" + suffix, 1)]);
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = Broker.BootstrapServers,
            ["Kafka:GroupId"] = "backlog-" + suffix,
            ["Kafka:MetricsTopic"] = MetricsTopic,
            ["Kafka:SpansTopic"] = SpansTopic,
            ["Kafka:IncidentsTopic"] = incidents,
            ["Kafka:DeadLetterTopic"] = "backlog-dlq-" + suffix,
            ["Kafka:CommitIntervalMs"] = "100",
            ["Kafka:AlignEventTime"] = align ? "true" : "false",
            ["Kafka:MaxIdleWaitMs"] = idleWaitMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Checkpoint:Enabled"] = "false",
            ["Metrics:Enabled"] = "false",
        };
        using var watcher = new IncidentWatcher(Broker.BootstrapServers, incidents);
        await using var worker = await RunningWorker.StartAsync(settings, CoreServices.Register);
        var pipeline = worker.Services.GetRequiredService<EventTimePipeline>();
        await Wait.UntilAsync(
            () => pipeline.Counters.Spans >= Workload.Spans && worker.Metrics.Records >= Workload.Records.Count,
            () => $"the worker to read the backlog: {worker.Metrics.Records} of {Workload.Records.Count} records, {pipeline.Counters.Spans} of {Workload.Spans} spans handed to the pipeline",
            TimeSpan.FromSeconds(60));

        // The incident of the fault was opened long before the last record; wait for its message
        // only when the run should have it (the unaligned one may not).
        if (align)
        {
            await Wait.UntilAsync(() => DuringFault(watcher.Messages).Count > 0, "the fault's incident on the incidents topic");
        }

        await worker.StopAsync();
        return new BacklogRun(pipeline.TopologyCounters.Late, pipeline.Counters.Spans, watcher.Messages);
    }

    /// <summary>
    /// Every record before any worker starts, LZ4 as the Collector's exporter can send it (the mock
    /// cluster keeps 5 MiB per partition): metrics to partition 0 (partition 1 stays empty), span
    /// records alternating over both span partitions as trace-id keys spread them.
    /// </summary>
    private void Produce()
    {
        var config = new ProducerConfig { BootstrapServers = Broker.BootstrapServers, EnableIdempotence = true, LingerMs = 5, CompressionType = CompressionType.Lz4 };
        using var producer = new ProducerBuilder<byte[]?, byte[]>(config).SetLogHandler(static (_, _) => { }).Build();
        var spans = 0;
        var failures = 0;
        foreach (var (isSpan, bytes) in Workload.Records)
        {
            var partition = isSpan ? new TopicPartition(SpansTopic, spans++ % 2) : new TopicPartition(MetricsTopic, 0);
            producer.Produce(partition, new Message<byte[]?, byte[]> { Value = bytes }, report =>
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failures);
                }
            });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, failures);

        // Nothing pruned by the mock's 5 MiB per partition: every partition still starts at 0.
        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Broker.BootstrapServers, GroupId = "backlog-probe" }).Build();
        foreach (var tp in new[] { new TopicPartition(MetricsTopic, 0), new TopicPartition(SpansTopic, 0), new TopicPartition(SpansTopic, 1) })
        {
            Assert.Equal(0, probe.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).Low.Value);
        }
    }
}

/// <summary>What one worker run over the backlog gave: spans dropped as late, spans handed to the pipeline, incident messages.</summary>
internal sealed record BacklogRun(long LateSpans, long Spans, IReadOnlyList<IncidentMessage> Incidents);
