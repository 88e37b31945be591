using System.Text;
using Aiops.Core;
using Aiops.Ingestion.Zipkin;

namespace Aiops.Ingestion.Tests.Zipkin;

public sealed class ZipkinJsonDecoderTests
{
    private static DecodeBatch Decode(string json)
    {
        var batch = new DecodeBatch();
        new ZipkinJsonDecoder().Decode(Encoding.UTF8.GetBytes(json), batch);
        return batch;
    }

    [Fact]
    public void AClientSpanMapsEveryFieldOfTheV2Model()
    {
        // Hand-written record in the shape of the Zipkin API v2 span example (64-bit trace id).
        const string json = """
            [{"traceId":"5af7183fb1d4cf5f","parentId":"6b221d5bc9e6496c","id":"352bff9a74ca9ad2",
              "kind":"CLIENT","name":"get /api","timestamp":1556604172355737,"duration":1431,
              "localEndpoint":{"serviceName":"frontend","ipv4":"192.168.99.1","port":3306},
              "remoteEndpoint":{"serviceName":"backend","ipv4":"172.19.0.2","port":9000},
              "annotations":[{"timestamp":1556604172355800,"value":"wr"}],
              "tags":{"http.method":"GET","http.path":"/api","error":"timeout"}}]
            """;

        var batch = Decode(json);

        Assert.Empty(batch.Errors);
        var span = Assert.Single(batch.Spans);
        Assert.Equal((UInt128)0x5af7183fb1d4cf5fUL, span.TraceId); // 16 hex digits: high half 0
        Assert.Equal(0x352bff9a74ca9ad2UL, span.SpanId);
        Assert.Equal(0x6b221d5bc9e6496cUL, span.ParentSpanId);
        Assert.Equal(SpanKind.Client, span.Kind);
        Assert.Equal("get /api", span.Name);
        Assert.Equal(1556604172355737000L, span.StartUnixNanos); // timestamp µs × 1000
        Assert.Equal(1556604172357168000L, span.EndUnixNanos); // + duration 1431 µs × 1000
        Assert.Equal("frontend", span.Service);
        Assert.Equal("192.168.99.1:3306", span.ServiceInstance); // localEndpoint ipv4:port
        Assert.Equal("backend", span.PeerService); // remoteEndpoint.serviceName
        Assert.Equal(SpanStatus.Error, span.Status); // an "error" tag, whatever its value
        Assert.Equal(
            [new SpanAttribute("http.method", "GET"), new SpanAttribute("http.path", "/api"), new SpanAttribute("error", "timeout")],
            span.Attributes);
    }

    [Fact]
    public void A128BitTraceIdKeepsBothHalves()
    {
        var batch = Decode("""[{"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312","kind":"SERVER","name":"get","timestamp":1700000000000000,"duration":10,"localEndpoint":{"serviceName":"api"}}]""");

        var span = Assert.Single(batch.Spans);
        Assert.Equal(new UInt128(0x463ac35c9f6413adUL, 0x48485a3953bb6124UL), span.TraceId);
        Assert.Equal(0UL, span.ParentSpanId); // no parentId: a root
        Assert.Equal(SpanKind.Server, span.Kind);
        Assert.Equal(SpanStatus.Unset, span.Status);
    }

    [Theory]
    [InlineData("SERVER", "503", SpanStatus.Error)] // 5xx fails every span (OTel HTTP semantic conventions)
    [InlineData("SERVER", "404", SpanStatus.Unset)] // a server answering 404 worked as designed
    [InlineData("CLIENT", "404", SpanStatus.Error)] // for the caller a 4xx is a failure
    [InlineData("CLIENT", "200", SpanStatus.Unset)]
    public void TheHttpStatusCodeDecidesTheStatusWhenThereIsNoErrorTag(string kind, string code, SpanStatus expected)
    {
        var batch = Decode("[{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\",\"kind\":\"" + kind
            + "\",\"timestamp\":1700000000000000,\"duration\":5,\"tags\":{\"http.status_code\":\"" + code + "\"}}]");

        Assert.Equal(expected, Assert.Single(batch.Spans).Status);
    }

    [Fact]
    public void ASpanWithoutKindIsInternalAndWithoutServiceIsUnknown()
    {
        var span = Assert.Single(Decode("""[{"traceId":"0000000000000001","id":"0000000000000002","timestamp":1700000000000000}]""").Spans);

        Assert.Equal(SpanKind.Internal, span.Kind);
        Assert.Equal("unknown_service", span.Service);
        Assert.Equal(span.StartUnixNanos, span.EndUnixNanos); // no duration: an instant
    }

    [Fact]
    public void PeerAttributesInTagsAreLiftedOutOfTheAttributeList()
    {
        var span = Assert.Single(Decode("""
            [{"traceId":"0000000000000001","id":"0000000000000002","kind":"CLIENT","timestamp":1700000000000000,
              "tags":{"peer.service":"orders-db","db.system":"postgresql","server.address":"db.internal","db.name":"orders"}}]
            """).Spans);

        Assert.Equal("orders-db", span.PeerService);
        Assert.Equal("postgresql", span.DbSystem);
        Assert.Equal("db.internal", span.ServerAddress);
        Assert.Equal([new SpanAttribute("db.name", "orders")], span.Attributes);
    }

    [Fact]
    public void ABadSpanIsReportedAndItsNeighboursAreKept()
    {
        var batch = Decode("""
            [{"traceId":"0000000000000001","id":"0000000000000002","timestamp":1700000000000000},
             {"traceId":"0000000000000001","id":"not-hex-at-all!!","timestamp":1700000000000000},
             {"traceId":"0000000000000001","id":"0000000000000003","kind":"SIDEWAYS","timestamp":1700000000000000},
             {"traceId":"0000000000000001","id":"0000000000000004","timestamp":1700000000000001}]
            """);

        Assert.Equal([2UL, 4UL], batch.Spans.Select(s => s.SpanId));
        Assert.Equal([DecodeErrorKind.InvalidId, DecodeErrorKind.UnknownEnumValue], batch.Errors.Select(e => e.Kind));
        Assert.Contains("SIDEWAYS", batch.Errors[1].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[{\"traceId\":\"0000000000000001\"", DecodeErrorKind.MalformedJson)]
    [InlineData("   ", DecodeErrorKind.Empty)]
    [InlineData("42", DecodeErrorKind.MalformedJson)]
    [InlineData("[{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\"}]", DecodeErrorKind.MissingField)] // no timestamp
    [InlineData("[{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\",\"timestamp\":-5}]", DecodeErrorKind.InvalidValue)]
    [InlineData("[{\"traceId\":\"0000000000000001\",\"id\":\"0000000000000002\",\"timestamp\":1000}]", DecodeErrorKind.TimestampOutOfRange)] // 1 ms after 1970
    public void BadInputBecomesATypedErrorNotAnException(string json, DecodeErrorKind expected)
    {
        var batch = Decode(json);

        Assert.Empty(batch.Spans);
        Assert.Equal(expected, Assert.Single(batch.Errors).Kind);
    }

    [Fact]
    public void ASingleSpanObjectIsAcceptedToo()
    {
        var batch = Decode("""{"traceId":"0000000000000001","id":"0000000000000002","timestamp":1700000000000000,"name":"x"}""");

        Assert.Equal("x", Assert.Single(batch.Spans).Name);
    }
}
