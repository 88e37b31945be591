using Aiops.Core;
using Aiops.Ingestion.Otlp;
using Aiops.Worker.Hosting;
using Aiops.Worker.Processing;
using Aiops.Worker.Replay;

namespace Aiops.Worker.Tests;

/// <summary>
/// OTLP metric exemplars through the real path: OTLP protobuf records with exemplars produced to
/// the embedded broker, the worker's decoder and pipeline, and the incident on the incidents
/// topic naming the exemplar's trace.
/// </summary>
public sealed class MetricExemplarEndToEndTests : IClassFixture<BrokerFixture>
{
    private const long T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    private const long Minute = 60_000;
    private const long NanosPerMs = 1_000_000;
    private const int Minutes = 400;

    /// <summary>The trace sampled while the CPU was saturated (a made-up id, recognisable in the output).</summary>
    private static readonly UInt128 SaturatedTrace = new(0x5eed5eed5eed5eed, 0x00000000000e7e11);

    private readonly BrokerFixture _fixture;

    public MetricExemplarEndToEndTests(BrokerFixture fixture) => _fixture = fixture;

    /// <summary>
    /// An ExportMetricsServiceRequest from <c>inventory</c> with the CPU gauge points of minutes
    /// [<paramref name="from"/>, <paramref name="to"/>): near 0.3 with seeded noise for 6 h, then
    /// 20 minutes at 0.97 whose points carry an exemplar of <see cref="SaturatedTrace"/> recorded
    /// 5 s before the point; decoys every 50 minutes before the fault carry other traces, which
    /// must not show up on the incident.
    /// </summary>
    private static byte[] Request(int from, int to)
    {
        var points = new List<OtlpDataPoint>(to - from);
        for (var m = from; m < to; m++)
        {
            var noise = new Random(23 + m).NextDouble();
            var t = (T0 + (m * Minute)) * NanosPerMs;
            var saturated = m is >= 360 and < 380;
            OtlpExemplar[] exemplars = saturated ? [new OtlpExemplar(t - (5_000 * NanosPerMs), 0.97, SaturatedTrace, 0x42)]
                : m % 50 == 0 ? [new OtlpExemplar(t - (5_000 * NanosPerMs), 0.3, new UInt128(0xdec0, (ulong)m + 1), 0x43)]
                : [];
            points.Add(new OtlpDataPoint { TimeUnixNano = t, Value = saturated ? 0.97 : 0.30 + (0.02 * noise), Attributes = [new("host", "h1")], Exemplars = exemplars });
        }

        var metric = new OtlpMetric { Name = "process.cpu.utilization", Kind = MetricKind.Saturation, Points = points };
        return OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "inventory", Metrics = [metric] }]);
    }

    /// <summary>The incident's first root cause is inventory, with the exemplar's id as 32 lower-case hex digits (the topic contract) and no decoy's.</summary>
    private static void AssertTheSaturatedTraceIsOnTheIncident(IEnumerable<IncidentMessage> messages)
    {
        var open = Assert.Single(messages, static m => m.Event == "open");
        var cause = open.RootCauses[0];
        Assert.Equal("inventory", cause.Service);
        Assert.Equal(["5eed5eed5eed5eed00000000000e7e11"], cause.ExemplarTraceIds);
    }

    [Fact]
    public async Task AnExemplarOnTheOtlpPointsOfAPlantedFaultReachesTheIncidentOnTheTopic()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        topics.ProduceMany(topics.Metrics, [.. Enumerable.Range(0, Minutes).Select(static m => Request(m, m + 1))]);
        await using var worker = await RunningWorker.StartAsync(topics.Settings("OtlpProtobuf"), CoreServices.Register);
        await Wait.UntilAsync(() => worker.Metrics.Records >= Minutes && worker.Metrics.IncidentEvents > 0, () => $"{Minutes} records and an incident (read {worker.Metrics.Records})", TimeSpan.FromSeconds(60));

        AssertTheSaturatedTraceIsOnTheIncident(topics.ReadAll(topics.Incidents, expected: 1).Select(static r => IncidentJsonContext.FromUtf8(r.Message.Value)).OfType<IncidentMessage>());
        Assert.Equal(0, worker.Metrics.DeadLetters);
    }

    [Fact]
    public void AReplayedOtlpProtobufFileCarriesItsExemplarsToTheIncidentToo()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aiops-exemplars-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "metrics.pb"), Request(0, Minutes));
        var output = Path.Combine(dir, "out");

        Assert.Equal(0, ReplayRunner.Run(dir, output));

        AssertTheSaturatedTraceIsOnTheIncident(File.ReadAllLines(Path.Combine(output, "incidents.jsonl")).Select(static l => IncidentJsonContext.FromUtf8(System.Text.Encoding.UTF8.GetBytes(l))).OfType<IncidentMessage>());
        Directory.Delete(dir, recursive: true);
    }
}
