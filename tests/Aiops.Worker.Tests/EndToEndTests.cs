using Aiops.Simulation;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Processing;

namespace Aiops.Worker.Tests;

/// <summary>The real decoders and pipeline behind the Kafka plumbing, fed OTLP protobuf by a real producer.</summary>
public sealed class EndToEndTests : IClassFixture<BrokerFixture>
{
    private readonly BrokerFixture _fixture;

    public EndToEndTests(BrokerFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task APlantedFaultComesOutAsExactlyOneIncidentWithTheRightRootCauseFirst()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();

        // The demo's default scenario (seed 7, CPU saturation, 120 simulated minutes): 85 minutes of
        // warm-up, a 20-minute fault, 15 minutes of recovery. The suite picks the target from the seed.
        var scenario = FaultSuite.Standard(7, FaultKinds.All.Count, new SuiteOptions
        {
            WarmUpMs = 85 * 60_000L,
            FaultMs = DemoSettings.FaultMinutes * 60_000L,
            RecoveryMs = DemoSettings.RecoveryMinutes * 60_000L,
        }).First(static c => c.Kind == FaultKind.CpuSaturation).Scenario;
        var simulator = new ShopSimulator(scenario);
        var fault = Assert.Single(simulator.GroundTruth.Faults);

        long produced;
        using (var producer = new SimulationProducer(_fixture.Broker.BootstrapServers, topics.Metrics, topics.Spans))
        {
            await producer.ProduceAsync(simulator, minutesPerSecond: 0, onBatch: null, CancellationToken.None);
            produced = producer.Records;
        }

        var settings = topics.Settings("OtlpProtobuf");
        settings["Checkpoint:IntervalMs"] = "5000";
        await using (var worker = await RunningWorker.StartAsync(settings, CoreServices.Register))
        {
            await Wait.UntilAsync(() => worker.Metrics.Records >= produced, () => $"the worker to read all {produced} records (read {worker.Metrics.Records})", TimeSpan.FromSeconds(150));
        }

        Assert.Equal(produced, topics.CommittedOffset(topics.Metrics) + topics.CommittedOffset(topics.Spans));
        var messages = topics.ReadAll(topics.Incidents, expected: 1, settle: TimeSpan.FromSeconds(2))
            .Select(static r => IncidentJsonContext.FromUtf8(r.Message.Value)!)
            .ToList();

        // Incidents opened while the fault was active (from 5 simulated minutes before its start, the
        // detectors' onset tolerance, to its end): exactly one, and its first root cause is the target.
        var duringFault = messages
            .Where(m => m.OpenedAtMs >= fault.StartMs - (5 * 60_000L) && m.OpenedAtMs < fault.EndMs)
            .GroupBy(static m => m.IncidentId)
            .ToList();
        var incident = Assert.Single(duringFault);
        var opened = incident.First(static m => m.Event == "open");
        Assert.Equal(fault.RootCause, opened.RootCauses[0].Service);
    }
}
