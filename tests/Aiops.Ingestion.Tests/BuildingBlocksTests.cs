using System.Buffers;
using System.Text;
using Aiops.Core;
using Aiops.Ingestion.JsonLines;
using Aiops.Ingestion.Otlp;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.Tests;

public class StringInternCacheTests
{
    [Fact]
    public void TheSameBytesReturnTheSameStringInstance()
    {
        var cache = new StringInternCache(64);
        Assert.True(cache.TryIntern("checkout"u8, out string a));
        Assert.True(cache.TryIntern("checkout"u8, out string b));
        Assert.Same(a, b);
        Assert.Equal(1, cache.Misses);
    }

    [Fact]
    public void TheCacheStaysBoundedAndStillReturnsCorrectStringsWhenFull()
    {
        // 16 slots (the minimum); 1,000 distinct strings must all come back right, none kept beyond the slots.
        var cache = new StringInternCache(16);
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(cache.TryIntern(Encoding.UTF8.GetBytes("label-" + i), out string s));
            Assert.Equal("label-" + i, s);
        }

        Assert.Equal(16, cache.Capacity);
    }

    [Fact]
    public void InvalidUtf8IsRefused()
    {
        Assert.False(new StringInternCache(16).TryIntern([0xC3, 0x28], out _));
    }
}

public class LabelSetBuilderTests
{
    [Fact]
    public void PairsAreSortedByKeyAndARepeatedKeyKeepsItsLastValue()
    {
        var b = new LabelSetBuilder();
        b.Add("zone"u8, "a"u8);
        b.Add("method"u8, "GET"u8);
        b.Add("zone"u8, "b"u8);
        Assert.Equal("method=GET,zone=b", Encoding.UTF8.GetString(b.Build()));
        b.Reset();
        Assert.True(b.Build().IsEmpty);
    }
}

public class HistogramQuantilesTests
{
    [Fact]
    public void WithoutMinAndMaxTheFirstBucketStartsAtZeroAndTheOverflowBucketReturnsTheLastBound()
    {
        // Bounds [10, 20], counts [2, 0, 2]: p25 → rank 1 of 4 in (0, 10] → 0 + 10·(1/2) = 5;
        // p99 → rank 3.96 in the overflow bucket, no max → last finite bound 20.
        double[] bounds = [10, 20];
        ulong[] counts = [2, 0, 2];
        Assert.Equal(5.0, HistogramQuantiles.Explicit(bounds, counts, 0.25, double.NaN, double.NaN), 12);
        Assert.Equal(20.0, HistogramQuantiles.Explicit(bounds, counts, 0.99, double.NaN, double.NaN), 12);
    }

    [Fact]
    public void AnEmptyHistogramHasNoQuantile()
    {
        Assert.True(double.IsNaN(HistogramQuantiles.Explicit([1.0], [0UL, 0UL], 0.5, double.NaN, double.NaN)));
        Assert.True(double.IsNaN(HistogramQuantiles.Exponential(0, 0, 0, [], 0, [], 0.5, double.NaN, double.NaN)));
    }

    [Fact]
    public void NegativeExponentialBucketsComeBeforeTheZeroBucket()
    {
        // scale 0, negative offset 1, counts [2]: values in [-4, -2); zero bucket 2. N = 4.
        // p25: rank 1 of 2 in the negative bucket → -(2^(1 + 1 - 0.5)) = -2^1.5; p75: rank 3 → the zero bucket → 0.
        Assert.Equal(-Math.Pow(2, 1.5), HistogramQuantiles.Exponential(0, 2, 0, [], 1, [2UL], 0.25, double.NaN, double.NaN), 12);
        Assert.Equal(0.0, HistogramQuantiles.Exponential(0, 2, 0, [], 1, [2UL], 0.75, double.NaN, double.NaN));
    }
}

public class OtlpDecoderEdgeTests
{
    private const long T0 = 1_700_000_000_000_000_000;

    private static byte[] Sum(long start, long time, double value, OtlpTemporality temporality, string service = "a") =>
        OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics
        {
            ServiceName = service,
            Metrics = [new OtlpMetric { Name = "requests", Type = OtlpMetricType.Sum, Temporality = temporality, IsMonotonic = true, Points = [new OtlpDataPoint { StartTimeUnixNano = start, TimeUnixNano = time, Value = value }] }],
        }]);

    [Fact]
    public void ADeltaSumWithoutStartTimeUsesTheGapSinceTheSeriesPreviousPoint()
    {
        var decoder = new OtlpMetricsDecoder();
        var batch = new DecodeBatch();
        decoder.Decode(Sum(0, T0, 5, OtlpTemporality.Delta), batch);
        Assert.Empty(batch.Metrics); // first point: no interval yet
        decoder.Decode(Sum(0, T0 + 20_000_000_000, 40, OtlpTemporality.Delta), batch);

        // 40 over the 20 s since the previous point = 2/s.
        Assert.Equal(2.0, Assert.Single(batch.Metrics).Value);
    }

    [Fact]
    public void ARedeliveredCumulativePointIsIgnoredAndAnOlderOneIsAnError()
    {
        var decoder = new OtlpMetricsDecoder();
        var batch = new DecodeBatch();
        decoder.Decode(Sum(T0, T0 + 10_000_000_000, 10, OtlpTemporality.Cumulative), batch);
        decoder.Decode(Sum(T0, T0 + 20_000_000_000, 20, OtlpTemporality.Cumulative), batch);
        decoder.Decode(Sum(T0, T0 + 20_000_000_000, 20, OtlpTemporality.Cumulative), batch);
        Assert.Single(batch.Metrics);
        Assert.Empty(batch.Errors);
        decoder.Decode(Sum(T0, T0 + 15_000_000_000, 15, OtlpTemporality.Cumulative), batch);
        Assert.Equal(DecodeErrorKind.TimestampOutOfRange, Assert.Single(batch.Errors).Kind);
    }

    [Fact]
    public void NewCumulativeSeriesBeyondTheLimitAreRejectedWithTheirOwnErrorKind()
    {
        var decoder = new OtlpMetricsDecoder(new DecodeOptions { MaxCumulativeSeries = 2 });
        var batch = new DecodeBatch();
        foreach (string service in new[] { "a", "b", "c" })
        {
            decoder.Decode(Sum(T0, T0 + 10_000_000_000, 1, OtlpTemporality.Cumulative, service), batch);
        }

        Assert.Equal(DecodeErrorKind.SeriesLimitExceeded, Assert.Single(batch.Errors).Kind);
        Assert.Equal(2, decoder.TrackedSeries);
    }

    [Fact]
    public void AMultiSegmentSequenceDecodesLikeOneSpan()
    {
        byte[] payload = OtlpProtobufEncoder.EncodeMetricPoints([new MetricPoint(new SeriesKey("a", "m", "k=v"), MetricKind.Generic, T0 / 1_000_000, 3)]);
        var first = new Segment(payload.AsMemory(0, 7));
        Segment last = first.Append(payload.AsMemory(7));
        var batch = new DecodeBatch();
        new OtlpMetricsDecoder().Decode(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), batch);
        Assert.Equal(3.0, Assert.Single(batch.Metrics).Value);
    }

    [Fact]
    public void AnEmptyOrOversizedTraceRecordIsRefused()
    {
        var batch = new DecodeBatch();
        new OtlpTraceDecoder().Decode(ReadOnlySpan<byte>.Empty, batch);
        new OtlpTraceDecoder(new DecodeOptions { MaxRecordBytes = 4 }).Decode(new byte[5], batch);
        Assert.Equal([DecodeErrorKind.Empty, DecodeErrorKind.Oversized], batch.Errors.Select(e => e.Kind));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

public class JsonLinesFileTests
{
    [Fact]
    public void AFileWrittenWithCreateIsReadBackWithReadFile()
    {
        string path = Path.Combine(Path.GetTempPath(), "aiops-ingestion-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            var point = new MetricPoint(new SeriesKey("a", "m", "x=1"), MetricKind.Throughput, 1_700_000_000_000, 7);
            using (JsonLinesWriter writer = JsonLinesWriter.Create(path))
            {
                writer.Write(point);
            }

            JsonLineResult r = Assert.Single(new JsonLinesReader().ReadFile(path));
            Assert.Equal(point, r.Metric);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public class TimestampGuardTests
{
    private const long Day = 86_400_000;
    private const long T = 1_700_000_000_000;

    [Fact]
    public void OneFarFuturePointIsRefusedWithoutMovingTheWatermark()
    {
        var guard = new TimestampGuard(new DecodeOptions());
        Assert.Null(guard.Check(T));
        Assert.NotNull(guard.Check(T + (3 * Day))); // 3 days ahead, limit 1 day
        Assert.Null(guard.Check(T + 1000));
        Assert.Equal(T + 1000, guard.WatermarkMs);
    }

    [Fact]
    public void AStreamResumingAfterALongGapIsAcceptedAfterTheConfirmations()
    {
        // Default: 3 consistent far-ahead points re-anchor; the first two are refused.
        var guard = new TimestampGuard(new DecodeOptions());
        Assert.Null(guard.Check(T));
        Assert.NotNull(guard.Check(T + (10 * Day)));
        Assert.NotNull(guard.Check(T + (10 * Day) + 60_000));
        Assert.Null(guard.Check(T + (10 * Day) + 120_000));
        Assert.Null(guard.Check(T + (10 * Day) + 180_000));
        Assert.Equal(T + (10 * Day) + 180_000, guard.WatermarkMs);
    }

    [Fact]
    public void PointsFarBehindTheWatermarkOrOutsideTheSanityWindowAreRefused()
    {
        var guard = new TimestampGuard(new DecodeOptions());
        Assert.NotNull(guard.Check(1_700_000_000)); // seconds given as milliseconds: 1970
        Assert.Null(guard.Check(T));
        Assert.NotNull(guard.Check(T - (8 * Day))); // limit 7 days behind
        Assert.Null(guard.Check(T - (6 * Day)));
    }
}
