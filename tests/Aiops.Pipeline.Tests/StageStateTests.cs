using System.Globalization;
using Aiops.Core;
using Aiops.Detection;
using Aiops.Pipeline.Repartition;
using Aiops.Simulation;

namespace Aiops.Pipeline.Tests;

/// <summary>
/// The checkpoint rule for stages A and B and the pipeline snapshot: state saved after record
/// k − 1, loaded into fresh instances and fed records k… gives exactly what the undisturbed
/// instance gives from k on, and both end with the same state bytes.
/// </summary>
public sealed class StageStateTests
{
    private const long Minute = 60_000;

    /// <summary>Monday 08:00 UTC (daytime traffic), as in <see cref="EventTimePipelineTests"/>.</summary>
    private const long Start = ScenarioOptions.DefaultStartMs + (8 * 3_600_000);

    /// <summary>Input partitions the spans are split over for the merge stage (by trace id, as the exporter keys them).</summary>
    private const int Inputs = 2;

    /// <summary>
    /// 70 minutes of the shop with a slow database from minute 40 to 55: spans of 11 services and
    /// their CPU/memory points, about 45k records, a few seconds per run.
    /// </summary>
    private static readonly ScenarioOptions Scenario = new()
    {
        Seed = 9,
        StartMs = Start,
        DurationMs = 70 * Minute,
        Faults = [new FaultSpec("f1", FaultKind.SlowDatabase, ShopSimulator.DatabaseNode, Start + (40 * Minute), Start + (55 * Minute))],
    };

    private static readonly List<SimulationRecord> Records = Flatten();

    /// <summary>Batch by batch, the metric points then the spans, as <see cref="EventTimePipelineTests.Run"/> feeds them.</summary>
    private static List<SimulationRecord> Flatten()
    {
        var records = new List<SimulationRecord>();
        foreach (var batch in new ShopSimulator(Scenario).Batches())
        {
            foreach (var point in batch.Metrics)
            {
                records.Add(SimulationRecord.Of(point));
            }

            foreach (var span in batch.Spans)
            {
                records.Add(SimulationRecord.Of(span));
            }
        }

        return records;
    }

    /// <summary>A cut a share of the way in, moved to just after a span (mid-bucket, with spans waiting for their partner).</summary>
    private static int CutAt(double share)
    {
        int cut = (int)(Records.Count * share);
        while (!Records[cut - 1].IsSpan)
        {
            cut++;
        }

        return cut;
    }

    private static string Describe(StageRecord record) => Convert.ToBase64String(StageRecordCodec.Encode([record]));

    private static string Describe(MetricPoint point, DetectionResult result) =>
        string.Create(CultureInfo.InvariantCulture, $"{point.Series}|{point.Kind}|{point.TimestampMs}|{point.Value:R}|{point.Total:R}|{result}");

    private sealed class Recorder : IStageSink
    {
        public List<StageRecord> Records { get; } = [];

        public void Write(StageRecord record) => Records.Add(record);
    }

    // ---- stage A ------------------------------------------------------------------------------

    /// <summary>A stage with its detection stage, recording what it writes and the points it scores.</summary>
    private sealed class Harness<T>
        where T : IStageState
    {
        public Harness(int source, Func<PipelineOptions, DetectionStage, IStageSink, T> create)
        {
            Detection = new DetectionStage(Options, Out, source);
            Detection.DetectionObserver = (point, result) => Scored.Add(Describe(point, result));
            Stage = create(Options, Detection, Out);
        }

        public PipelineOptions Options { get; } = new();

        public Recorder Out { get; } = new();

        public List<string> Scored { get; } = [];

        public DetectionStage Detection { get; }

        public T Stage { get; }

        /// <summary>The stage's checkpoint: the detectors' registry (saved beside it) and its open state.</summary>
        public byte[] Save()
        {
            using var buffer = new MemoryStream();
            Detection.Save(buffer);
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                Stage.SaveState(writer);
            }

            return buffer.ToArray();
        }

        /// <summary>Loads a checkpoint written by <see cref="Save"/> into this fresh harness; every byte is read.</summary>
        public void Load(byte[] state)
        {
            using var buffer = new MemoryStream(state);
            Detection.Load(buffer, 0, 0);
            using var reader = new BinaryReader(buffer);
            Stage.LoadState(reader);
            Assert.Equal(state.Length, buffer.Position);
        }
    }

    private static Harness<IngestStage> NewIngest() =>
        new(StageSources.Ingest(0, 0), static (options, detection, output) => new IngestStage(options, StageSources.Ingest(0, 0), detection, output));

    private static void FeedIngest(IngestStage stage, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            var record = Records[i];
            if (record.IsSpan)
            {
                stage.AddSpan(record.Span);
            }
            else
            {
                // Every CPU point carries an exemplar (a seeded trace id) so the exemplar store has state.
                if (record.Metric.Series.Metric.Contains("cpu", StringComparison.Ordinal))
                {
                    stage.AddExemplar(record.Metric.Series, record.Metric.TimestampMs, (UInt128)(ulong)(i + 1));
                }

                stage.AddMetric(record.Metric);
            }
        }
    }

    /// <summary>
    /// What the stage's own state decides: the partial buckets, graph facts and watermarks it
    /// writes. Its verdicts also pass the detection stage's episode gates, whose state the
    /// detection stage saves itself; the scored points compare the detectors.
    /// </summary>
    private static List<string> OwnOutput(Recorder recorder, int from) =>
        recorder.Records.Skip(from).Where(r => r is not (VerdictRecord or SustainRecord)).Select(Describe).ToList();

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.85)]
    public void AnIngestStageRestoredAtACutWritesExactlyWhatTheUndisturbedOneWrites(double share)
    {
        int cut = CutAt(share);
        var original = NewIngest();
        FeedIngest(original.Stage, 0, cut);
        byte[] state = original.Save();
        int written = original.Out.Records.Count;
        int scored = original.Scored.Count;

        var restored = NewIngest();
        restored.Load(state);
        Assert.Equal(state, restored.Save());
        FeedIngest(original.Stage, cut, Records.Count);
        FeedIngest(restored.Stage, cut, Records.Count);

        var expected = OwnOutput(original.Out, written);
        Assert.True(expected.Count > 1_000, $"only {expected.Count} records after the cut");
        Assert.Equal(expected, OwnOutput(restored.Out, 0));
        Assert.Equal(original.Scored.Skip(scored), restored.Scored);
        Assert.Equal(original.Save(), restored.Save());
    }

    // ---- stage B ------------------------------------------------------------------------------

    /// <summary>What two ingest stages (spans split by trace id, points by resource) send the merge stage, in arrival order.</summary>
    private static readonly List<StageRecord> MergeInput = IngestTwoPartitions();

    private static List<StageRecord> IngestTwoPartitions()
    {
        var options = new PipelineOptions();
        var sink = new Recorder();
        var stages = new IngestStage[Inputs];
        for (int p = 0; p < Inputs; p++)
        {
            stages[p] = new IngestStage(options, StageSources.Ingest(0, p), new DetectionStage(options, sink, StageSources.Ingest(0, p)), sink);
        }

        foreach (var record in Records)
        {
            if (record.IsSpan)
            {
                stages[(int)(record.Span.TraceId % Inputs)].AddSpan(record.Span);
            }
            else
            {
                stages[StageSources.PartitionOf(record.Metric.Series.Service + "|" + record.Metric.Series.Labels, Inputs)].AddMetric(record.Metric);
            }
        }

        return sink.Records;
    }

    private static Harness<MergeStage> NewMerge() =>
        new(StageSources.Merge(0), static (options, detection, output) => new MergeStage(options, StageSources.Merge(0), Inputs, detection, output));

    private static void FeedMerge(MergeStage stage, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            stage.Write(MergeInput[i]);
        }
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.6)]
    [InlineData(0.8)]
    public void AMergeStageRestoredWithSharesPendingWritesExactlyWhatTheUndisturbedOneWrites(double share)
    {
        // Just after a share: its bucket is pending.
        int cut = (int)(MergeInput.Count * share);
        while (MergeInput[cut - 1] is not PartialRecord)
        {
            cut++;
        }

        var original = NewMerge();
        FeedMerge(original.Stage, 0, cut);
        Assert.True(original.Stage.PendingShares > 0, "the cut should leave shares waiting for their bucket to be due");
        byte[] state = original.Save();
        int written = original.Out.Records.Count;
        int scored = original.Scored.Count;

        var restored = NewMerge();
        restored.Load(state);
        Assert.Equal(state, restored.Save());
        Assert.Equal(original.Stage.PendingShares, restored.Stage.PendingShares);
        FeedMerge(original.Stage, cut, MergeInput.Count);
        FeedMerge(restored.Stage, cut, MergeInput.Count);

        var expected = OwnOutput(original.Out, written);
        Assert.True(original.Scored.Count - scored > 1_000, $"only {original.Scored.Count - scored} points scored after the cut");
        Assert.Equal(expected, OwnOutput(restored.Out, 0));
        Assert.Equal(original.Scored.Skip(scored), restored.Scored);
        Assert.Equal(original.Save(), restored.Save());
    }

    [Fact]
    public void AMergeStageStateForAnotherNumberOfInputPartitionsIsRefused()
    {
        var original = NewMerge();
        FeedMerge(original.Stage, 0, MergeInput.Count / 2);
        byte[] state = original.Save();

        var options = new PipelineOptions();
        var detection = new DetectionStage(options, new Recorder(), StageSources.Merge(0));
        var other = new MergeStage(options, StageSources.Merge(0), sources: 3, detection, new Recorder());
        using var buffer = new MemoryStream(state);
        detection.Load(buffer, 0, 0);
        var e = Assert.Throws<InvalidDataException>(() => other.LoadState(new BinaryReader(buffer)));
        Assert.Contains("merge stage state", e.Message, StringComparison.Ordinal);
        Assert.Contains("2 sources", e.Message, StringComparison.Ordinal);
    }

    // ---- the in-process pipeline ---------------------------------------------------------------

    private sealed class Pipeline
    {
        public Pipeline() => Instance.DetectionObserver = (point, result) => Scored.Add(Describe(point, result));

        public EventTimePipeline Instance { get; } = new();

        public List<string> Scored { get; } = [];

        public void Feed(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                var record = Records[i];
                if (record.IsSpan)
                {
                    Instance.AddSpan(record.Span);
                }
                else
                {
                    Instance.AddMetric(record.Metric);
                }
            }
        }

        public byte[] Snapshot()
        {
            using var buffer = new MemoryStream();
            Instance.WriteSnapshot(buffer);
            return buffer.ToArray();
        }

        public static Pipeline Restore(byte[] snapshot)
        {
            var pipeline = new Pipeline();
            using var buffer = new MemoryStream(snapshot);
            pipeline.Instance.RestoreSnapshot(buffer);
            Assert.Equal(snapshot.Length, buffer.Position);
            return pipeline;
        }
    }

    /// <summary>
    /// The snapshot after its header (magic, version, watermark and five counters, 56 bytes): the
    /// registry and the ingest and merge stages' open state. The header's incident count is the
    /// correlator's, whose open incidents this snapshot version does not hold yet.
    /// </summary>
    private static byte[] Body(byte[] snapshot) => snapshot[56..];

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.6)]
    [InlineData(0.7)]
    public void APipelineRestoredFromASnapshotScoresExactlyThePointsOfTheUndisturbedOne(double share)
    {
        int cut = CutAt(share);
        var original = new Pipeline();
        original.Feed(0, cut);
        byte[] snapshot = original.Snapshot();
        int scored = original.Scored.Count;

        var restored = Pipeline.Restore(snapshot);
        Assert.Equal(snapshot, restored.Snapshot());
        original.Feed(cut, Records.Count);
        restored.Feed(cut, Records.Count);
        original.Instance.Flush();
        restored.Instance.Flush();

        Assert.True(original.Scored.Count - scored > 1_000, $"only {original.Scored.Count - scored} points scored after the cut");
        Assert.Equal(original.Scored.Skip(scored), restored.Scored);
        Assert.Equal(original.Instance.TopologyCounters.Paired, restored.Instance.TopologyCounters.Paired);
        Assert.Equal(original.Instance.TopologyCounters.Late, restored.Instance.TopologyCounters.Late);
        Assert.Equal(Body(original.Snapshot()), Body(restored.Snapshot()));
    }

    [Fact]
    public void ASnapshotRestoredIntoARunningPipelineReplacesItsStateAndABadOneLeavesItAsItWas()
    {
        var source = new Pipeline();
        source.Feed(0, CutAt(0.4));
        byte[] snapshot = source.Snapshot();

        // A worker restores a newer checkpoint another instance wrote into a pipeline that has run.
        var running = new Pipeline();
        running.Feed(0, CutAt(0.2));
        byte[] before = running.Snapshot();
        Assert.Throws<InvalidDataException>(() => running.Instance.RestoreSnapshot(new MemoryStream(snapshot[..^2])));
        Assert.Equal(before, running.Snapshot());

        running.Instance.RestoreSnapshot(new MemoryStream(snapshot));
        Assert.Equal(snapshot, running.Snapshot());
    }

    [Fact]
    public void ATruncatedSnapshotIsRefusedNamingTheSectionThatIsShort()
    {
        var original = new Pipeline();
        original.Feed(0, CutAt(0.4));
        byte[] snapshot = original.Snapshot();

        // The correlation stage's correlator section is the last one: its final bytes are its end marker.
        var e = Assert.Throws<InvalidDataException>(() => Pipeline.Restore(snapshot[..^2]));
        Assert.Contains("incident correlator state", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACorruptOpenStateSectionIsRefusedNamingIt()
    {
        var original = new Pipeline();
        original.Feed(0, CutAt(0.4));
        byte[] snapshot = original.Snapshot();

        // The ingest stage's section starts right after the registry with its magic "AING".
        int at = OpenStateAt(original);
        Assert.Equal("AING"u8.ToArray(), snapshot[at..(at + 4)]);
        var corrupt = (byte[])snapshot.Clone();
        corrupt[at + 8] ^= 0x5A; // the stored source id
        var e = Assert.Throws<InvalidDataException>(() => Pipeline.Restore(corrupt));
        Assert.Contains("ingest stage state", e.Message, StringComparison.Ordinal);

        var foreign = (byte[])snapshot.Clone();
        foreign[at] = 0;
        var magic = Assert.Throws<InvalidDataException>(() => Pipeline.Restore(foreign));
        Assert.Contains("ingest stage state", magic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AVersionTwoSnapshotLoadsItsBaselinesWithEmptyOpenState()
    {
        var original = new Pipeline();
        original.Feed(0, CutAt(0.5));
        byte[] snapshot = original.Snapshot();

        // Version 2 was the header and the registry only: rewrite the version and drop what follows the registry.
        var v2 = snapshot[..OpenStateAt(original)];
        BitConverter.TryWriteBytes(v2.AsSpan(4, 4), 2);

        var restored = Pipeline.Restore(v2);
        Assert.Equal(original.Instance.Counters.Points, restored.Instance.Counters.Points);
        Assert.Equal(original.Instance.WatermarkMs, restored.Instance.WatermarkMs);
        Assert.Equal(original.Instance.Detectors.Count, restored.Instance.Detectors.Count);
        Assert.Equal(0, restored.Instance.TopologyCounters.Spans);
    }

    /// <summary>Where the open state starts: after the 56-byte header and the registry snapshot.</summary>
    private static int OpenStateAt(Pipeline pipeline)
    {
        using var registry = new MemoryStream();
        pipeline.Instance.Detectors.Save(registry);
        return 56 + (int)registry.Length;
    }
}
