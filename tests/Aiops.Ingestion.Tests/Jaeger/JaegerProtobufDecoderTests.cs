using Aiops.Core;
using Aiops.Ingestion.Jaeger;
using static Aiops.Ingestion.Tests.Jaeger.JaegerProto;

namespace Aiops.Ingestion.Tests.Jaeger;

public sealed class JaegerProtobufDecoderTests
{
    // Field numbers from jaeger-idl proto/api_v2/model.proto, written out here by name.
    private const int SpanTraceId = 1, SpanSpanId = 2, SpanOperationName = 3, SpanReferences = 4, SpanFlags = 5;
    private const int SpanStartTime = 6, SpanDuration = 7, SpanTags = 8, SpanLogs = 9, SpanProcess = 10, SpanProcessId = 11;
    private const int RefTraceId = 1, RefSpanId = 2, RefType = 3;
    private const int KvKey = 1, KvType = 2, KvStr = 3, KvBool = 4, KvInt64 = 5, KvFloat64 = 6;
    private const int ProcessServiceName = 1, ProcessTags = 2;
    private const int Seconds = 1, Nanos = 2;
    private const ulong Int64Type = 2, BoolType = 1, Float64Type = 3, FollowsFrom = 1;

    private static readonly byte[] TraceBytes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10];
    private static readonly byte[] SpanBytes = [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18];
    private static readonly byte[] ParentBytes = [0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28];
    private static readonly byte[] OtherBytes = [0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38];

    private static byte[] StringTag(string key, string value) => Len(SpanTags, Str(KvKey, key), Str(KvStr, value));

    private static byte[] ServerSpan() =>
    [
        .. Len(SpanTraceId, TraceBytes),
        .. Len(SpanSpanId, SpanBytes),
        .. Str(SpanOperationName, "GET /cart"),
        // A FOLLOWS_FROM reference first: the CHILD_OF one must still win as the parent.
        .. Len(SpanReferences, Len(RefTraceId, TraceBytes), Len(RefSpanId, OtherBytes), VarintField(RefType, FollowsFrom)),
        .. Len(SpanReferences, Len(RefTraceId, TraceBytes), Len(RefSpanId, ParentBytes)), // ref_type omitted = CHILD_OF
        .. VarintField(SpanFlags, 1),
        .. Len(SpanStartTime, VarintField(Seconds, 1_700_000_000), VarintField(Nanos, 123_456_789)),
        .. Len(SpanDuration, VarintField(Nanos, 2_500_000)),
        .. StringTag("span.kind", "server"),
        .. Len(SpanTags, Str(KvKey, "http.status_code"), VarintField(KvType, Int64Type), VarintField(KvInt64, 500)),
        .. Len(SpanTags, Str(KvKey, "error"), VarintField(KvType, BoolType)), // v_bool false is omitted on the wire
        .. Len(SpanTags, Str(KvKey, "ratio"), VarintField(KvType, Float64Type), DoubleField(KvFloat64, 0.25)),
        .. Len(SpanLogs, Len(1, VarintField(Seconds, 1_700_000_000))),
        .. Len(SpanProcess,
            Str(ProcessServiceName, "cart"),
            Len(ProcessTags, Str(KvKey, "hostname"), Str(KvStr, "node-7")),
            Len(ProcessTags, Str(KvKey, "service.instance.id"), Str(KvStr, "cart-1")),
            Len(ProcessTags, Str(KvKey, "service.version"), Str(KvStr, "1.4.2"))),
        .. Str(SpanProcessId, "p1"),
    ];

    private static DecodeBatch Decode(byte[] payload)
    {
        var batch = new DecodeBatch();
        new JaegerProtobufDecoder().Decode(payload, batch);
        return batch;
    }

    [Fact]
    public void AServerSpanMapsEveryFieldOfTheModel()
    {
        var batch = Decode(ServerSpan());

        Assert.Empty(batch.Errors);
        var span = Assert.Single(batch.Spans);
        Assert.Equal(new UInt128(0x0102030405060708UL, 0x090a0b0c0d0e0f10UL), span.TraceId); // TraceBytes, big-endian
        Assert.Equal(0x1112131415161718UL, span.SpanId); // SpanBytes
        Assert.Equal(0x2122232425262728UL, span.ParentSpanId); // the CHILD_OF reference, not FOLLOWS_FROM
        Assert.Equal("GET /cart", span.Name);
        Assert.Equal(SpanKind.Server, span.Kind); // span.kind tag "server"
        Assert.Equal(1_700_000_000_123_456_789L, span.StartUnixNanos); // 1,700,000,000 s + 123,456,789 ns
        Assert.Equal(1_700_000_000_125_956_789L, span.EndUnixNanos); // + 2,500,000 ns duration
        Assert.Equal("cart", span.Service); // process.service_name
        Assert.Equal("cart-1", span.ServiceInstance); // service.instance.id wins over hostname
        Assert.Equal("1.4.2", span.ServiceVersion);
        Assert.Equal(SpanStatus.Error, span.Status); // error=false, but http.status_code 500
        Assert.Equal(
            [new SpanAttribute("http.status_code", "500"), new SpanAttribute("error", "false"), new SpanAttribute("ratio", "0.25")],
            span.Attributes);
    }

    [Fact]
    public void ASpanWithoutReferencesIsARootAndWithoutKindIsInternal()
    {
        byte[] payload =
        [
            .. Len(SpanTraceId, TraceBytes),
            .. Len(SpanSpanId, SpanBytes),
            .. Len(SpanStartTime, VarintField(Seconds, 1_700_000_000)),
            .. Len(SpanProcess, Str(ProcessServiceName, "batch")),
        ];

        var span = Assert.Single(Decode(payload).Spans);

        Assert.Equal(0UL, span.ParentSpanId);
        Assert.Equal(SpanKind.Internal, span.Kind);
        Assert.Equal(1_700_000_000_000_000_000L, span.StartUnixNanos);
        Assert.Equal(span.StartUnixNanos, span.EndUnixNanos); // duration absent = 0
    }

    [Fact]
    public void AReferenceToAnotherTraceIsNotAParent()
    {
        byte[] otherTrace = [.. TraceBytes[..15], 0xff];
        byte[] payload =
        [
            .. Len(SpanTraceId, TraceBytes),
            .. Len(SpanSpanId, SpanBytes),
            .. Len(SpanReferences, Len(RefTraceId, otherTrace), Len(RefSpanId, ParentBytes)),
            .. Len(SpanStartTime, VarintField(Seconds, 1_700_000_000)),
        ];

        Assert.Equal(0UL, Assert.Single(Decode(payload).Spans).ParentSpanId);
    }

    [Fact]
    public void ATruncatedRecordIsATypedError()
    {
        byte[] whole = ServerSpan();

        var batch = Decode(whole[..(whole.Length - 3)]);

        Assert.Empty(batch.Spans);
        Assert.Equal(DecodeErrorKind.Truncated, Assert.Single(batch.Errors).Kind);
    }

    [Fact]
    public void AnEightByteTraceIdIsRejected()
    {
        // Jaeger's proto TraceID is always 16 bytes (high and low halves).
        byte[] payload = [.. Len(SpanTraceId, SpanBytes), .. Len(SpanSpanId, SpanBytes), .. Len(SpanStartTime, VarintField(Seconds, 1_700_000_000))];

        var error = Assert.Single(Decode(payload).Errors);

        Assert.Equal(DecodeErrorKind.InvalidId, error.Kind);
    }

    [Fact]
    public void AnUnknownSpanKindTagIsATypedError()
    {
        byte[] payload = [.. Len(SpanTraceId, TraceBytes), .. Len(SpanSpanId, SpanBytes), .. Len(SpanStartTime, VarintField(Seconds, 1_700_000_000)), .. StringTag("span.kind", "sideways")];

        var error = Assert.Single(Decode(payload).Errors);

        Assert.Equal(DecodeErrorKind.UnknownEnumValue, error.Kind);
        Assert.Contains("sideways", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyRecordIsATypedError()
    {
        Assert.Equal(DecodeErrorKind.Empty, Assert.Single(Decode([]).Errors).Kind);
    }

    [Fact]
    public void AWrongWireTypeForAKnownFieldIsATypedError()
    {
        byte[] payload = [.. VarintField(SpanTraceId, 5), .. Len(SpanSpanId, SpanBytes)];

        Assert.Equal(DecodeErrorKind.WrongWireType, Assert.Single(Decode(payload).Errors).Kind);
    }
}
