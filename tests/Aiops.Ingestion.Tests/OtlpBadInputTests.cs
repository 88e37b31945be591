using Aiops.Core;
using Aiops.Ingestion.Otlp;

namespace Aiops.Ingestion.Tests;

/// <summary>
/// Each bad-input kind yields its <see cref="DecodeErrorKind"/> while the good metrics before and
/// after it in the same request survive. Requests are built by concatenating serialized
/// <c>resource_metrics</c> entries (a repeated field, so concatenation is a valid merged request):
/// a good one from the encoder, the bad one assembled by hand, another good one.
/// </summary>
public class OtlpBadInputTests
{
    private const long T0 = 1_700_000_000_000_000_000;

    private static byte[] Good(string service, long timeNanos, double value) =>
        OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics
        {
            ServiceName = service,
            Metrics = [new OtlpMetric { Name = "temperature", Points = [new OtlpDataPoint { TimeUnixNano = timeNanos, Value = value }] }],
        }]);

    private static DecodeBatch DecodeSandwich(byte[] bad, DecodeOptions? options = null)
    {
        byte[] payload = [.. Good("before", T0, 1), .. bad, .. Good("after", T0 + 1_000_000_000, 2)];
        var batch = new DecodeBatch();
        new OtlpMetricsDecoder(options).Decode(payload, batch);
        return batch;
    }

    private static void AssertSurvivors(DecodeBatch batch)
    {
        Assert.Contains(batch.Metrics, p => p.Series.Service == "before" && p.Value == 1);
        Assert.Contains(batch.Metrics, p => p.Series.Service == "after" && p.Value == 2);
    }

    public static TheoryData<string, byte[], DecodeErrorKind> BadMetrics()
    {
        byte[] label = Pb.StringAttribute(7, "k", "v");
        return new TheoryData<string, byte[], DecodeErrorKind>
        {
            { "NaN value", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.GaugePoint(T0, double.NaN))), DecodeErrorKind.NonFiniteValue },
            { "infinite value", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.GaugePoint(T0, double.PositiveInfinity))), DecodeErrorKind.NonFiniteValue },
            // time_unix_nano (3) sent as VARINT (wire type 0) instead of I64.
            { "wrong wire type", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.Len(1, Pb.VarintField(3, 5), Pb.Double(4, 1)))), DecodeErrorKind.WrongWireType },
            // Two days after the previous point's event time (limit: 1 hour ahead of the watermark).
            { "far future", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.GaugePoint(T0 + (2 * 86_400_000_000_000L), 1))), DecodeErrorKind.TimestampOutOfRange },
            // 1970: outside the absolute window and weeks behind the watermark.
            { "far past", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.GaugePoint(1_000_000_000, 1))), DecodeErrorKind.TimestampOutOfRange },
            { "invalid UTF-8 label", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.GaugePoint(T0, 1, Pb.RawStringAttribute(7, "k", [0xC3, 0x28])))), DecodeErrorKind.InvalidUtf8 },
            { "invalid UTF-8 name", Pb.ResourceMetrics("bad", Pb.Len(2, Pb.Bytes(1, [0xFF, 0xFE]), Pb.Len(5, Pb.GaugePoint(T0, 1)))), DecodeErrorKind.InvalidUtf8 },
            { "label explosion", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.GaugePoint(T0, 1, [.. Enumerable.Range(0, 40).Select(i => Pb.StringAttribute(7, "k" + i, "v"))]))), DecodeErrorKind.LabelLimitExceeded },
            { "long label value", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.GaugePoint(T0, 1, Pb.StringAttribute(7, "url", new string('x', 300))))), DecodeErrorKind.LabelLimitExceeded },
            // Sum (7) with aggregation_temporality (2) = 7, not DELTA/CUMULATIVE.
            { "unknown temporality", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 7, Pb.GaugePoint(T0, 1), Pb.VarintField(2, 7))), DecodeErrorKind.UnknownEnumValue },
            { "missing name", Pb.ResourceMetrics("bad", Pb.Len(2, Pb.Len(5, Pb.GaugePoint(T0, 1)))), DecodeErrorKind.MissingField },
            { "missing value", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.Len(1, Pb.Fixed64(3, T0)))), DecodeErrorKind.MissingField },
            // Histogram with 3 bounds but 2 counts.
            { "inconsistent histogram", Pb.ResourceMetrics("bad", Pb.Metric("h", "ms", 9, Pb.Len(1, Pb.Fixed64(2, T0 - 1), Pb.Fixed64(3, T0), Pb.Fixed64(4, 2), Pb.Len(6, new byte[16]), Pb.Len(7, new byte[24])), Pb.VarintField(2, 1))), DecodeErrorKind.InvalidValue },
            // A label in the middle of a point whose length prefix claims 50 bytes but the point has 3.
            { "truncated inner message", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.Len(1, [.. Pb.Tag(7, 2), 50, 1, 2, 3]))), DecodeErrorKind.Truncated },
            // Group wire types are not used by proto3.
            { "group wire type", Pb.ResourceMetrics("bad", Pb.Metric("m", "", 5, Pb.Len(1, Pb.Tag(9, 3)))), DecodeErrorKind.WrongWireType },
        };
    }

    [Theory]
    [MemberData(nameof(BadMetrics))]
    public void EachBadInputKindIsReportedAndTheGoodMetricsAroundItSurvive(string name, byte[] bad, DecodeErrorKind expected)
    {
        DecodeBatch batch = DecodeSandwich(bad);
        DecodeError error = Assert.Single(batch.Errors);
        Assert.True(expected == error.Kind, $"{name}: expected {expected}, got {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.Reason));
        AssertSurvivors(batch);
        Assert.Equal(2, batch.Metrics.Count);
    }

    [Fact]
    public void ATruncatedRequestKeepsTheMetricsDecodedBeforeTheCut()
    {
        byte[] good = Good("before", T0, 1);
        byte[] second = Good("after", T0, 2);
        byte[] payload = [.. good, .. second.AsSpan(0, second.Length - 5)];
        var batch = new DecodeBatch();
        new OtlpMetricsDecoder().Decode(payload, batch);
        Assert.Equal(DecodeErrorKind.Truncated, Assert.Single(batch.Errors).Kind);
        Assert.Equal("before", Assert.Single(batch.Metrics).Series.Service);
    }

    [Fact]
    public void AnEmptyRecordIsAnEmptyError()
    {
        var batch = new DecodeBatch();
        new OtlpMetricsDecoder().Decode(ReadOnlySpan<byte>.Empty, batch);
        Assert.Equal(DecodeErrorKind.Empty, Assert.Single(batch.Errors).Kind);
    }

    [Fact]
    public void AnOversizedRecordIsRefused()
    {
        var batch = new DecodeBatch();
        new OtlpMetricsDecoder(new DecodeOptions { MaxRecordBytes = 16 }).Decode(Good("a", T0, 1), batch);
        Assert.Equal(DecodeErrorKind.Oversized, Assert.Single(batch.Errors).Kind);
        Assert.Empty(batch.Metrics);
    }

    [Fact]
    public void RandomCorruptionNeverThrows()
    {
        // Seeded byte flips and cuts over a realistic request: the decoder must return (errors or points), never throw.
        byte[] clean = OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics
        {
            ServiceName = "svc",
            Metrics =
            [
                new OtlpMetric { Name = "g", Points = [new OtlpDataPoint { TimeUnixNano = T0, Value = 1, Attributes = [new("a", "b")] }] },
                new OtlpMetric { Name = "h", Unit = "ms", Type = OtlpMetricType.Histogram, Temporality = OtlpTemporality.Cumulative, Points = [new OtlpDataPoint { StartTimeUnixNano = T0 - 1, TimeUnixNano = T0, Count = 3, ExplicitBounds = [1, 2], BucketCounts = [1, 1, 1] }] },
                new OtlpMetric { Name = "e", Type = OtlpMetricType.ExponentialHistogram, Temporality = OtlpTemporality.Delta, Points = [new OtlpDataPoint { StartTimeUnixNano = T0 - 1, TimeUnixNano = T0, Count = 2, Scale = 2, PositiveOffset = -3, PositiveBucketCounts = [1, 1] }] },
            ],
        }]);
        var random = new Random(42);
        var decoder = new OtlpMetricsDecoder();
        var batch = new DecodeBatch();
        int withErrors = 0;
        for (int i = 0; i < 2000; i++)
        {
            byte[] bytes = (byte[])clean.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            batch.Clear();
            decoder.Decode(bytes.AsSpan(0, random.Next(1, bytes.Length + 1)), batch);
            withErrors += batch.Errors.Count > 0 ? 1 : 0;
        }

        // Most corruptions are detected; the exact number depends on the seed, the point is that none threw.
        Assert.True(withErrors > 1000, $"only {withErrors} of 2000 corrupted payloads reported an error");
    }
}

public class OtlpTraceBadInputTests
{
    private static byte[] GoodSpan(string service, ulong spanId) => OtlpProtobufEncoder.EncodeSpans([new SpanRecord
    {
        TraceId = 7, SpanId = spanId, Service = service, Name = "op",
        StartUnixNanos = 1_700_000_000_000_000_000, EndUnixNanos = 1_700_000_000_000_000_100,
    }]);

    private static byte[] BadSpan(params byte[][] fields) =>
        Pb.Len(1, Pb.Len(1, Pb.StringAttribute(1, "service.name", "bad")), Pb.Len(2, Pb.Len(2, fields)));

    public static TheoryData<string, byte[], DecodeErrorKind> BadSpans()
    {
        byte[] trace = new byte[16];
        trace[15] = 1;
        byte[] span = [0, 0, 0, 0, 0, 0, 0, 9];
        byte[] start = Pb.Fixed64(7, 1_700_000_000_000_000_000);
        byte[] end = Pb.Fixed64(8, 1_700_000_000_000_000_100);
        return new TheoryData<string, byte[], DecodeErrorKind>
        {
            { "unknown kind", BadSpan(Pb.Bytes(1, trace), Pb.Bytes(2, span), Pb.Str(5, "x"), Pb.VarintField(6, 9), start, end), DecodeErrorKind.UnknownEnumValue },
            { "unknown status", BadSpan(Pb.Bytes(1, trace), Pb.Bytes(2, span), Pb.Str(5, "x"), start, end, Pb.Len(15, Pb.VarintField(3, 4))), DecodeErrorKind.UnknownEnumValue },
            { "short trace id", BadSpan(Pb.Bytes(1, [1, 2, 3]), Pb.Bytes(2, span), start, end), DecodeErrorKind.InvalidId },
            { "zero ids", BadSpan(Pb.Bytes(1, new byte[16]), Pb.Bytes(2, span), start, end), DecodeErrorKind.InvalidId },
            { "start as varint", BadSpan(Pb.Bytes(1, trace), Pb.Bytes(2, span), Pb.VarintField(7, 5), end), DecodeErrorKind.WrongWireType },
            { "invalid UTF-8 name", BadSpan(Pb.Bytes(1, trace), Pb.Bytes(2, span), Pb.Bytes(5, [0xC0, 0xAF]), start, end), DecodeErrorKind.InvalidUtf8 },
            { "end before start", BadSpan(Pb.Bytes(1, trace), Pb.Bytes(2, span), Pb.Fixed64(7, 1_700_000_000_000_000_100), Pb.Fixed64(8, 1_700_000_000_000_000_000)), DecodeErrorKind.InvalidValue },
        };
    }

    [Theory]
    [MemberData(nameof(BadSpans))]
    public void EachBadSpanIsReportedAndTheSpansAroundItSurvive(string name, byte[] bad, DecodeErrorKind expected)
    {
        byte[] payload = [.. GoodSpan("before", 1), .. bad, .. GoodSpan("after", 2)];
        var batch = new DecodeBatch();
        new OtlpTraceDecoder().Decode(payload, batch);
        DecodeError error = Assert.Single(batch.Errors);
        Assert.True(expected == error.Kind, $"{name}: expected {expected}, got {error}");
        Assert.Equal(["before", "after"], batch.Spans.Select(s => s.Service));
    }
}
