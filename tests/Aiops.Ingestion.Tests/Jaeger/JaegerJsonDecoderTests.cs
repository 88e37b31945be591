using System.Text;
using Aiops.Core;
using Aiops.Ingestion.Jaeger;

namespace Aiops.Ingestion.Tests.Jaeger;

public sealed class JaegerJsonDecoderTests
{
    private static DecodeBatch Decode(string json)
    {
        var batch = new DecodeBatch();
        new JaegerJsonDecoder().Decode(Encoding.UTF8.GetBytes(json), batch);
        return batch;
    }

    [Fact]
    public void AClientSpanInTheProtobufJsonMappingMapsEveryField()
    {
        // Ids are base64 of the bytes 01..10 (trace), 11..18 (span) and 21..28 (parent), computed
        // by hand with a base64 table; 1,700,000,000 s is 2023-11-14T22:13:20Z.
        const string json = """
            {"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"ERITFBUWFxg=","operationName":"SELECT orders",
             "references":[{"traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"ISIjJCUmJyg="}],
             "flags":1,"startTime":"2023-11-14T22:13:20.123456789Z","duration":"0.002500s",
             "tags":[{"key":"span.kind","vStr":"client"},
                     {"key":"http.status_code","vType":"INT64","vInt64":"404"},
                     {"key":"peer.service","vStr":"orders-db"},
                     {"key":"retry","vType":"BOOL","vBool":true}],
             "logs":[],
             "process":{"serviceName":"cart","tags":[{"key":"hostname","vStr":"node-7"}]},
             "processId":"p1"}
            """;

        var batch = Decode(json);

        Assert.Empty(batch.Errors);
        var span = Assert.Single(batch.Spans);
        Assert.Equal(new UInt128(0x0102030405060708UL, 0x090a0b0c0d0e0f10UL), span.TraceId);
        Assert.Equal(0x1112131415161718UL, span.SpanId);
        Assert.Equal(0x2122232425262728UL, span.ParentSpanId); // refType omitted = CHILD_OF
        Assert.Equal("SELECT orders", span.Name);
        Assert.Equal(SpanKind.Client, span.Kind);
        Assert.Equal(1_700_000_000_123_456_789L, span.StartUnixNanos); // all 9 fractional digits kept
        Assert.Equal(1_700_000_000_125_956_789L, span.EndUnixNanos); // + 2.5 ms
        Assert.Equal("cart", span.Service);
        Assert.Equal("node-7", span.ServiceInstance); // hostname when there is no service.instance.id
        Assert.Equal("orders-db", span.PeerService);
        Assert.Equal(SpanStatus.Error, span.Status); // a client span with a 4xx
        Assert.Equal([new SpanAttribute("http.status_code", "404"), new SpanAttribute("retry", "true")], span.Attributes);
    }

    [Fact]
    public void SnakeCaseNamesHexIdsAndMicrosecondNumbersAreAccepted()
    {
        const string json = """
            {"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"1112131415161718","operation_name":"x",
             "start_time":1700000000000001,"duration":1500,
             "tags":[{"key":"otel.status_code","v_str":"OK"}],"process":{"service_name":"svc"}}
            """;

        var span = Assert.Single(Decode(json).Spans);

        Assert.Equal(new UInt128(0x0102030405060708UL, 0x090a0b0c0d0e0f10UL), span.TraceId);
        Assert.Equal(1_700_000_000_000_001_000L, span.StartUnixNanos); // µs × 1000
        Assert.Equal(1_700_000_000_001_501_000L, span.EndUnixNanos); // + 1500 µs
        Assert.Equal(SpanStatus.Ok, span.Status); // otel.status_code
    }

    [Theory]
    [InlineData("2023-11-14T22:13:20Z", 1_700_000_000_000_000_000L)]
    [InlineData("2023-11-14T22:13:20.5Z", 1_700_000_000_500_000_000L)]
    [InlineData("2023-11-14T23:13:20.000001+01:00", 1_700_000_000_000_001_000L)] // one hour east of UTC
    public void TimestampsKeepNanosecondPrecisionAndOffsets(string text, long expected)
    {
        Assert.Equal(expected, JaegerJsonDecoder.ParseTimestamp(text));
    }

    [Theory]
    [InlineData("0.002500s", 2_500_000L)]
    [InlineData("3s", 3_000_000_000L)]
    [InlineData("1.000000001s", 1_000_000_001L)]
    [InlineData("2.5", long.MinValue)] // no unit
    [InlineData("1.0000000001s", long.MinValue)] // 10 fractional digits
    public void DurationsFollowTheProto3JsonForm(string text, long expected)
    {
        Assert.Equal(expected, JaegerJsonDecoder.ParseDuration(text));
    }

    [Theory]
    [InlineData("{\"traceId\":", DecodeErrorKind.MalformedJson)]
    [InlineData("[]", DecodeErrorKind.MalformedJson)]
    [InlineData("", DecodeErrorKind.Empty)]
    [InlineData("{\"traceId\":\"AQID\",\"spanId\":\"ERITFBUWFxg=\",\"startTime\":\"2023-11-14T22:13:20Z\"}", DecodeErrorKind.InvalidId)] // 3-byte trace id
    [InlineData("{\"traceId\":\"AQIDBAUGBwgJCgsMDQ4PEA==\",\"spanId\":\"ERITFBUWFxg=\",\"startTime\":\"yesterday\"}", DecodeErrorKind.InvalidValue)]
    [InlineData("{\"traceId\":\"AQIDBAUGBwgJCgsMDQ4PEA==\",\"spanId\":\"ERITFBUWFxg=\"}", DecodeErrorKind.MissingField)] // no startTime
    [InlineData("{\"traceId\":\"AQIDBAUGBwgJCgsMDQ4PEA==\",\"spanId\":\"ERITFBUWFxg=\",\"startTime\":\"2023-11-14T22:13:20Z\",\"tags\":[{\"key\":\"n\",\"vType\":\"INT64\",\"vInt64\":\"ten\"}]}", DecodeErrorKind.InvalidValue)]
    [InlineData("{\"traceId\":\"AQIDBAUGBwgJCgsMDQ4PEA==\",\"spanId\":\"ERITFBUWFxg=\",\"startTime\":\"2023-11-14T22:13:20Z\",\"references\":[{\"refType\":\"SIBLING_OF\"}]}", DecodeErrorKind.InvalidValue)]
    public void BadInputBecomesATypedErrorNotAnException(string json, DecodeErrorKind expected)
    {
        var batch = Decode(json);

        Assert.Empty(batch.Spans);
        Assert.Equal(expected, Assert.Single(batch.Errors).Kind);
    }
}
