using Aiops.Core;
using Aiops.Pipeline.Repartition;
using Aiops.Topology;

namespace Aiops.Pipeline.Tests;

public sealed class StageRecordCodecTests
{
    private static readonly RedPartial Share = new()
    {
        Service = "checkout",
        Scope = RedPartialScope.Edge,
        ScopeKey = "db:postgresql",
        BucketStartMs = 1_700_000_040_000,
        Count = 42,
        Errors = 3,
        ZeroCount = 1,
        BinKeys = [-3, 120, 121, 400],
        BinCounts = [2, 30, 8, 1],
        Sum = 1234.5,
        Max = 880.25,
        SlowestTrace = new UInt128(0x0102030405060708, 0x090a0b0c0d0e0f10),
        SlowestMs = 880.25,
        FailedTrace0 = 7,
        FailedTrace1 = UInt128.MaxValue,
        FailedCount = 2,
    };

    private static readonly Anomaly Verdict = new()
    {
        Series = new SeriesKey("cart", "latency.p50", "instance=cart-2"),
        Kind = MetricKind.Latency,
        Detector = DetectorKind.LevelShift,
        TimestampMs = 1_700_000_000_000,
        SinceMs = 1_699_999_940_000,
        Observed = 120.5,
        Expected = 40.25,
        Lower = double.NaN,
        Upper = 60,
        PValue = 1e-9,
        Score = 0.875,
        Direction = Direction.Up,
        Detail = "shift",
        ExemplarTraceIds = ["00000000000000000000000000000abc"],
    };

    private static List<StageRecord> Batch() =>
    [
        new PartialRecord { Source = StageSources.Ingest(0, 2), TimeMs = Share.BucketStartMs, Partial = Share },
        new VerdictRecord { Source = StageSources.Merge(1), TimeMs = 1_700_000_090_000, Anomaly = Verdict, Exemplars = ["a", "b"] },
        new SustainRecord { Source = StageSources.Merge(1), TimeMs = 1_700_000_150_000, Series = Verdict.Series, PointMs = 1_700_000_060_000 },
        new GraphFactRecord { Source = 3, TimeMs = 5, Fact = new GraphFact { Kind = GraphFactKind.Instance, Node = "cart", Other = "cart-2", Version = "1.4.0", TimeMs = 5, FirstMs = 4 } },
        new GraphFactRecord { Source = 3, TimeMs = 6, Fact = new GraphFact { Kind = GraphFactKind.Edge, Node = "frontend", Other = "cart", TimeMs = 6, Calls = 10, Errors = 1 } },
        new SloShareRecord { Source = StageSources.Ingest(0, 2), TimeMs = 1_700_000_040_000, Share = new SloShare("checkout", "checkout-latency", 1_700_000_040_000, 3, 412) },
        new WatermarkRecord { Source = 3, TimeMs = 1_700_000_160_000 },
    ];

    /// <summary>The records a version-1 writer could send (every kind but the SLO share).</summary>
    private static List<StageRecord> VersionOneBatch() => Batch().FindAll(r => r is not SloShareRecord);

    [Fact]
    public void EveryRecordKindSurvivesTheRoundTripFieldForField()
    {
        var batch = Batch();

        var decoded = StageRecordCodec.Decode(StageRecordCodec.Encode(batch));

        Assert.Equal(batch.Count, decoded.Count);
        var partial = Assert.IsType<PartialRecord>(decoded[0]);
        Assert.Equal(Share.Service, partial.Partial.Service);
        Assert.Equal(Share.Scope, partial.Partial.Scope);
        Assert.Equal(Share.ScopeKey, partial.Partial.ScopeKey);
        Assert.Equal((Share.BucketStartMs, Share.Count, Share.Errors, Share.ZeroCount), (partial.Partial.BucketStartMs, partial.Partial.Count, partial.Partial.Errors, partial.Partial.ZeroCount));
        Assert.Equal(Share.BinKeys, partial.Partial.BinKeys);
        Assert.Equal(Share.BinCounts, partial.Partial.BinCounts);
        Assert.Equal((Share.Sum, Share.Max, Share.SlowestMs), (partial.Partial.Sum, partial.Partial.Max, partial.Partial.SlowestMs));
        Assert.Equal((Share.SlowestTrace, Share.FailedTrace0, Share.FailedTrace1, Share.FailedCount), (partial.Partial.SlowestTrace, partial.Partial.FailedTrace0, partial.Partial.FailedTrace1, partial.Partial.FailedCount));

        var verdict = Assert.IsType<VerdictRecord>(decoded[1]);
        Assert.Equal(Verdict with { ExemplarTraceIds = [] }, verdict.Anomaly with { ExemplarTraceIds = [] });
        Assert.Equal(Verdict.ExemplarTraceIds, verdict.Anomaly.ExemplarTraceIds);
        Assert.Equal(["a", "b"], verdict.Exemplars);
        Assert.Equal((StageSources.Merge(1), 1_700_000_090_000L), (verdict.Source, verdict.TimeMs));

        Assert.Equal(batch[2], decoded[2]);
        Assert.Equal(batch[3], decoded[3]);
        Assert.Equal(batch[4], decoded[4]);
        Assert.Equal(batch[5], decoded[5]);
        Assert.Equal(batch[6], decoded[6]);
    }

    [Fact]
    public void ABatchOfTheVersionBeforeTheSloShareStillDecodes()
    {
        // Version 2 only added kind 6, so the bytes of a version-1 writer are today's bytes with
        // the version byte 1: a group upgraded one instance at a time keeps reading the old batches.
        var batch = VersionOneBatch();
        var bytes = StageRecordCodec.Encode(batch);
        bytes[3] = 1;

        var decoded = StageRecordCodec.Decode(bytes);

        Assert.Equal(batch.Count, decoded.Count);
        Assert.Equal(batch[^1], decoded[^1]);
        Assert.Equal(batch[2], decoded[2]);
    }

    [Fact]
    public void AVersionOneBatchCarryingAnSloShareIsRefusedNamingTheKindAndVersion()
    {
        var bytes = StageRecordCodec.Encode([Batch().Find(r => r is SloShareRecord)!]);
        bytes[3] = 1;

        var e = Assert.Throws<InvalidDataException>(() => StageRecordCodec.Decode(bytes));
        Assert.Contains("kind 6 in a version 1 batch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABatchOfANewerFormatVersionIsRefusedNamingTheVersion()
    {
        var bytes = StageRecordCodec.Encode(Batch());
        bytes[3] = StageRecordCodec.Version + 1;

        var e = Assert.Throws<InvalidDataException>(() => StageRecordCodec.Decode(bytes));
        Assert.Contains($"version {StageRecordCodec.Version + 1} ", e.Message, StringComparison.Ordinal);

        bytes[3] = 0;
        e = Assert.Throws<InvalidDataException>(() => StageRecordCodec.Decode(bytes));
        Assert.Contains("version 0 ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedOrForeignBytesAreRefusedWithAnInvalidDataException()
    {
        var bytes = StageRecordCodec.Encode(Batch());

        for (int cut = 0; cut < bytes.Length; cut += 7)
        {
            Assert.Throws<InvalidDataException>(() => StageRecordCodec.Decode(bytes.AsSpan(0, cut)));
        }

        Assert.Throws<InvalidDataException>(() => StageRecordCodec.Decode("{\"json\":true}"u8));
    }
}
