using System.Text;
using Aiops.Core;
using Aiops.Pipeline.Repartition;
using Aiops.Simulation;

namespace Aiops.Pipeline.Tests;

/// <summary>
/// Cut-restore-continue for the episode gates (<see cref="DetectionStage.SaveState"/>): a detection
/// stage scores seeded resource points; at a cut its registry (<see cref="DetectionStage.Save"/>)
/// and gates are saved and loaded into a fresh stage, both take the rest, and the records they
/// forward (verdicts, sustains) must be byte-identical, as must their final states.
/// </summary>
public sealed class DetectionStageStateTests
{
    private const long Minute = 60_000;
    private const long Start = ScenarioOptions.DefaultStartMs;

    /// <summary>300 one-minute points of warm-up (the detectors need 64; the gate's history floor 150), as in <see cref="EpisodeGateTests"/>.</summary>
    private const int WarmUp = 300;

    private const int Minutes = WarmUp + 200;

    /// <summary>
    /// Four CPU series (Random 9, noise ±0.01 around 0.30): series 0 steps to 0.90 for 60 minutes
    /// from minute 300 (confirmed, then sustained, then its recovery), series 1 for one minute at 320
    /// (a verdict held by the 2-point confirmation and then dropped), series 2 to 0.05 for 30 minutes
    /// from 330 (downwards), series 3 stays normal.
    /// </summary>
    private static List<MetricPoint> Workload()
    {
        var random = new Random(9);
        var points = new List<MetricPoint>();
        for (int m = 0; m < Minutes; m++)
        {
            for (int s = 0; s < 4; s++)
            {
                double level = s switch
                {
                    0 when m is >= WarmUp and < WarmUp + 60 => 0.90,
                    1 when m == WarmUp + 20 => 0.95,
                    2 when m is >= WarmUp + 30 and < WarmUp + 60 => 0.05,
                    _ => 0.30,
                };
                var series = new SeriesKey("cart", "process.cpu.utilization", $"instance=cart-{s}");
                points.Add(new MetricPoint(series, MetricKind.Saturation, Start + (m * Minute), level + ((random.NextDouble() - 0.5) * 0.02)));
            }
        }

        return points;
    }

    private static DetectionStage NewStage(RecordingSink sink) => new(new PipelineOptions(), sink, StageSources.Ingest(1, 0));

    private static void Feed(DetectionStage stage, List<MetricPoint> points, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            stage.Detect(points[i], points[i].TimestampMs);
        }
    }

    private static byte[] Save(DetectionStage stage)
    {
        using var stream = new MemoryStream();
        stage.Save(stream);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            stage.SaveState(writer);
        }

        return stream.ToArray();
    }

    private static DetectionStage Load(byte[] state, DetectionStage from, RecordingSink sink, bool gates = true)
    {
        var stage = NewStage(sink);
        using var stream = new MemoryStream(state);
        stage.Load(stream, from.Points, from.Anomalies);
        if (gates)
        {
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            stage.LoadState(reader);
            Assert.Equal(state.Length, stream.Position);
        }

        return stage;
    }

    [Theory]
    [InlineData(WarmUp + 1)] // series 0's first verdict held, awaiting its confirmation
    [InlineData(WarmUp + 20)] // series 1's single verdict held; series 0 sustaining
    [InlineData(WarmUp + 45)] // series 0 sustaining, series 2 in a downward episode
    [InlineData(WarmUp + 62)] // both just recovered: verdicts the other way are the recovery
    [InlineData(WarmUp + 150)] // long after: recovery windows and counters only
    public void AStageRestoredAtACutForwardsTheRecordsOfTheUndisturbedOne(int cutMinute)
    {
        var points = Workload();
        int cut = cutMinute * 4;
        var originalSink = new RecordingSink();
        var original = NewStage(originalSink);
        Feed(original, points, 0, cut);
        var state = Save(original);

        var restoredSink = new RecordingSink();
        var restored = Load(state, original, restoredSink);
        Assert.Equal(state, Save(restored));

        originalSink.Records.Clear();
        Feed(original, points, cut, points.Count);
        Feed(restored, points, cut, points.Count);

        Assert.Equal(StageRecordCodec.Encode(originalSink.Records), StageRecordCodec.Encode(restoredSink.Records));
        Assert.Equal(Save(original), Save(restored));
        Assert.Equal(original.SuppressedAnomalies, restored.SuppressedAnomalies);
    }

    [Fact]
    public void TheWorkloadForwardsVerdictsAndSustainsAfterTheCuts()
    {
        // What the theory compares is not empty: after minute 301 the stage forwards verdicts and sustains.
        var points = Workload();
        var sink = new RecordingSink();
        var stage = NewStage(sink);
        Feed(stage, points, 0, (WarmUp + 1) * 4);
        sink.Records.Clear();
        Feed(stage, points, (WarmUp + 1) * 4, points.Count);

        Assert.Contains(sink.Records, static r => r is VerdictRecord { Anomaly.Series.Labels: "instance=cart-0" });
        Assert.Contains(sink.Records, static r => r is SustainRecord { Series.Labels: "instance=cart-0" });
        Assert.Contains(sink.Records, static r => r is VerdictRecord { Anomaly.Series.Labels: "instance=cart-2" });
    }

    [Fact]
    public void WithoutTheGatesARestoredStageForwardsSomethingElse()
    {
        // The control: the registry alone (the session-3 checkpoint) at a cut inside series 0's
        // episode loses the held verdict and the sustains, so the comparison above needs the gates.
        var points = Workload();
        int cut = (WarmUp + 1) * 4;
        var originalSink = new RecordingSink();
        var original = NewStage(originalSink);
        Feed(original, points, 0, cut);
        var state = Save(original);
        var restoredSink = new RecordingSink();
        var restored = Load(state, original, restoredSink, gates: false);

        originalSink.Records.Clear();
        Feed(original, points, cut, points.Count);
        Feed(restored, points, cut, points.Count);

        Assert.NotEqual(StageRecordCodec.Encode(originalSink.Records), StageRecordCodec.Encode(restoredSink.Records));
    }

    [Fact]
    public void ATruncatedGatesSectionIsRefusedWithAMessageNamingIt()
    {
        var points = Workload();
        var stage = NewStage(new RecordingSink());
        Feed(stage, points, 0, (WarmUp + 30) * 4);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            stage.SaveState(writer);
        }

        var cut = stream.ToArray()[..(int)(stream.Length - 5)];
        var e = Assert.Throws<InvalidDataException>(() => NewStage(new RecordingSink()).LoadState(new BinaryReader(new MemoryStream(cut))));
        Assert.Contains("detection gates state", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARegistrySnapshotGivenAsGatesIsRefusedAsForeign()
    {
        var stage = NewStage(new RecordingSink());
        using var stream = new MemoryStream();
        stage.Save(stream);
        stream.Position = 0;

        var e = Assert.Throws<InvalidDataException>(() => NewStage(new RecordingSink()).LoadState(new BinaryReader(stream)));
        Assert.Contains("The detection gates state does not start with its magic", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Keeps what a stage writes.</summary>
    internal sealed class RecordingSink : IStageSink
    {
        public List<StageRecord> Records { get; } = [];

        public void Write(StageRecord record) => Records.Add(record);
    }
}
