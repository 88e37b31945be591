using Aiops.Simulation;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Processing;
using Confluent.Kafka;

namespace Aiops.Worker.Tests;

/// <summary>The real decoders and pipeline behind the Kafka plumbing, fed OTLP protobuf by a real producer.</summary>
public sealed class EndToEndTests : IClassFixture<BrokerFixture>
{
    private readonly BrokerFixture _fixture;

    public EndToEndTests(BrokerFixture fixture) => _fixture = fixture;

    /// <summary>
    /// The demo's default scenario (seed 7, CPU saturation, 120 simulated minutes): 85 minutes of
    /// warm-up, a 20-minute fault, 15 minutes of recovery. The suite picks the target from the seed.
    /// </summary>
    internal static ScenarioOptions DemoScenario() => FaultSuite.Standard(7, FaultKinds.All.Count, new SuiteOptions
    {
        WarmUpMs = 85 * 60_000L,
        FaultMs = DemoSettings.FaultMinutes * 60_000L,
        RecoveryMs = DemoSettings.RecoveryMinutes * 60_000L,
    }).First(static c => c.Kind == FaultKind.CpuSaturation).Scenario;

    [Fact]
    public async Task APlantedFaultComesOutAsExactlyOneIncidentWithTheRightRootCauseFirst()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();

        var scenario = DemoScenario();
        var simulator = new ShopSimulator(scenario);
        var fault = Assert.Single(simulator.GroundTruth.Faults);

        // Records up to 10 simulated minutes into the fault: the incident must have opened by then.
        var judgedUntilMs = fault.StartMs + (10 * 60_000L);
        long recordsToJudge = 0;
        using (var producer = new SimulationProducer(_fixture.Broker.BootstrapServers, topics.Metrics, topics.Spans))
        {
            await producer.ProduceAsync(simulator, minutesPerSecond: 0, onBatch: b =>
            {
                if (b.EndMs <= judgedUntilMs)
                {
                    recordsToJudge = producer.Records;
                }
            }, CancellationToken.None);
        }

        // The mock cluster keeps 5 MiB per partition and deletes older batches (librdkafka
        // rdkafka_mock.c): every produced record must still be there, or the worker cannot read it.
        using (var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _fixture.Broker.BootstrapServers, GroupId = topics.Group + "-probe" }).Build())
        {
            foreach (var topic in new[] { topics.Metrics, topics.Spans })
            {
                var marks = probe.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10));
                Assert.Equal(0, marks.Low.Value);
            }
        }

        var settings = topics.Settings("OtlpProtobuf");
        settings["Checkpoint:IntervalMs"] = "5000";
        using var watcher = new IncidentWatcher(_fixture.Broker.BootstrapServers, topics.Incidents);
        await using (var worker = await RunningWorker.StartAsync(settings, CoreServices.Register))
        {
            await Wait.UntilAsync(
                () => worker.Metrics.Records >= recordsToJudge && watcher.Messages.Count > 0,
                () => $"the worker to read {recordsToJudge} records (read {worker.Metrics.Records}) and an incident ({watcher.Messages.Count} messages)",
                TimeSpan.FromSeconds(120));
        }

        // Incidents opened from 5 simulated minutes before the fault (the detectors' onset tolerance)
        // to the judged point that involve the faulty service: exactly one (the fault is not split
        // into several incidents, nor repeated), and its first root cause is the fault's target.
        // Unrelated incidents elsewhere in the shop (detector false positives) are not this test's subject.
        var duringFault = watcher.Messages
            .Where(m => m.OpenedAtMs >= fault.StartMs - (5 * 60_000L) && m.OpenedAtMs < judgedUntilMs)
            .Where(m => m.Services.Contains(fault.RootCause) || m.RootCauses.Any(c => c.Service == fault.RootCause))
            .GroupBy(static m => m.IncidentId)
            .ToList();
        var incident = Assert.Single(duringFault);
        var opened = incident.First(static m => m.Event == "open");
        Assert.Equal(fault.RootCause, opened.RootCauses[0].Service);
    }
}
