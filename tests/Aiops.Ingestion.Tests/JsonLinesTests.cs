using System.Text;
using Aiops.Core;
using Aiops.Ingestion.JsonLines;

namespace Aiops.Ingestion.Tests;

public class JsonLinesReaderTests
{
    private static List<JsonLineResult> ReadAll(string text, DecodeOptions? options = null)
    {
        var reader = new JsonLinesReader(options);
        return reader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text))).ToList();
    }

    [Fact]
    public void TheMetricExampleFromTheTeamBriefDecodesToItsFields()
    {
        // The example line of TEAM.md, "Our JSON-lines format".
        const string line = """{"type":"metric","ts":1700000000000,"service":"checkout","metric":"http.server.duration.p99","labels":{"route":"/pay"},"kind":"latency","value":123.4,"total":0}""";
        JsonLineResult r = Assert.Single(ReadAll(line));
        Assert.Equal(JsonLineType.Metric, r.Type);
        Assert.Equal(new MetricPoint(new SeriesKey("checkout", "http.server.duration.p99", "route=/pay"), MetricKind.Latency, 1700000000000, 123.4, 0), r.Metric);
    }

    [Fact]
    public void TheSpanExampleFromTheTeamBriefLiftsPeerAttributes()
    {
        const string line = """{"type":"span","traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","service":"cart","instance":"cart-1","version":"1.4.2","name":"GET /cart","kind":"server","start":1700000000000000000,"end":1700000000050000000,"status":"error","attributes":{"peer.service":"db","db.system":"postgresql","http.route":"/cart"}}""";
        JsonLineResult r = Assert.Single(ReadAll(line));
        Assert.Equal(JsonLineType.Span, r.Type);
        SpanRecord s = r.Span;
        Assert.Equal(UInt128.Parse("0af7651916cd43dd8448eb211c80319c", System.Globalization.NumberStyles.HexNumber), s.TraceId);
        Assert.Equal(0xb7ad6b7169203331UL, s.SpanId);
        Assert.Equal(0UL, s.ParentSpanId);
        Assert.Equal("cart", s.Service);
        Assert.Equal("cart-1", s.ServiceInstance);
        Assert.Equal("1.4.2", s.ServiceVersion);
        Assert.Equal(SpanKind.Server, s.Kind);
        Assert.Equal(SpanStatus.Error, s.Status);
        Assert.Equal("db", s.PeerService);
        Assert.Equal("postgresql", s.DbSystem);
        Assert.Equal(50.0, s.DurationMs);
        Assert.Equal([new SpanAttribute("http.route", "/cart")], s.Attributes);
    }

    [Fact]
    public void AnRfc3339TimestampIsReadAsUnixMilliseconds()
    {
        // 2023-11-14T22:13:20Z is Unix 1,700,000,000 s.
        JsonLineResult r = Assert.Single(ReadAll("""{"type":"metric","ts":"2023-11-14T22:13:20.5Z","service":"a","metric":"m","value":1}"""));
        Assert.Equal(1_700_000_000_500L, r.Metric.TimestampMs);
        Assert.Equal(MetricKind.Generic, r.Metric.Kind);
    }

    [Fact]
    public void LabelsAreSortedIntoTheCanonicalForm()
    {
        JsonLineResult r = Assert.Single(ReadAll("""{"type":"metric","ts":1700000000000,"service":"a","metric":"m","labels":{"z":"1","a":"x","m":2},"value":1}"""));
        Assert.Equal("a=x,m=2,z=1", r.Metric.Series.Labels);
    }

    [Fact]
    public void ABadLineIsReportedWithItsNumberAndFieldWhileTheLinesAroundItSurvive()
    {
        string text = string.Join('\n',
            """{"type":"metric","ts":1700000000000,"service":"a","metric":"m","value":1}""",
            """{"type":"metric","ts":1700000000000,"service":"a","metric":"m","value":"NaN"}""",
            "",
            """{"type":"metric","ts":1700000001000,"service":"a","metric":"m","value":2}""");
        List<JsonLineResult> results = ReadAll(text);
        Assert.Equal(3, results.Count);
        Assert.Equal(1.0, results[0].Metric.Value);
        Assert.Equal(JsonLineType.Error, results[1].Type);
        Assert.Equal(DecodeErrorKind.NonFiniteValue, results[1].Error.Kind);
        Assert.Equal(2, results[1].LineNumber);
        Assert.Contains("line 2", results[1].Error.Reason, StringComparison.Ordinal);
        Assert.Contains("'value'", results[1].Error.Reason, StringComparison.Ordinal);
        Assert.Equal(2.0, results[2].Metric.Value);
        Assert.Equal(4, results[2].LineNumber);
    }

    [Theory]
    [InlineData("""{"type":"metric","ts":1700000000000,"service":"a","metric":"m","value":1""", DecodeErrorKind.MalformedJson)]
    [InlineData("""not json""", DecodeErrorKind.MalformedJson)]
    [InlineData("""{"type":"log","service":"a"}""", DecodeErrorKind.UnknownRecordType)]
    [InlineData("""{"ts":1700000000000,"service":"a","metric":"m","value":1}""", DecodeErrorKind.MissingField)]
    [InlineData("""{"type":"metric","ts":1700000000000,"service":"a","value":1}""", DecodeErrorKind.MissingField)]
    [InlineData("""{"type":"metric","ts":1700000000000,"service":"a","metric":"m","value":true}""", DecodeErrorKind.InvalidValue)]
    [InlineData("""{"type":"metric","ts":1700000000000,"service":"a","metric":"m","kind":"speed","value":1}""", DecodeErrorKind.UnknownEnumValue)]
    [InlineData("""{"type":"metric","ts":1700000000,"service":"a","metric":"m","value":1}""", DecodeErrorKind.TimestampOutOfRange)]
    [InlineData("""{"type":"span","traceId":"abc","spanId":"b7ad6b7169203331","service":"a","name":"x","start":1700000000000000000,"end":1700000000000000001}""", DecodeErrorKind.InvalidId)]
    [InlineData("""{"type":"span","traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","service":"a","name":"x","kind":"sideways","start":1700000000000000000,"end":1700000000000000001}""", DecodeErrorKind.UnknownEnumValue)]
    public void EachKindOfBadLineGetsItsErrorKind(string line, DecodeErrorKind expected)
    {
        JsonLineResult r = Assert.Single(ReadAll(line));
        Assert.Equal(JsonLineType.Error, r.Type);
        Assert.Equal(expected, r.Error.Kind);
        Assert.False(string.IsNullOrWhiteSpace(r.Error.Reason));
    }

    [Fact]
    public void InvalidUtf8IsReportedAsSuch()
    {
        byte[] line = [.. "{\"type\":\"metric\",\"ts\":1700000000000,\"service\":\""u8, 0xC3, 0x28, .. "\",\"metric\":\"m\",\"value\":1}"u8];
        JsonLineResult r = new JsonLinesReader().DecodeLine(line, 7);
        Assert.Equal(DecodeErrorKind.InvalidUtf8, r.Error.Kind);
        Assert.Equal(7, r.Error.Position);
    }

    [Fact]
    public void TooManyLabelsOrATooLongLabelValueIsALabelLimitError()
    {
        var options = new DecodeOptions { MaxLabelsPerPoint = 2, MaxLabelValueLength = 4 };
        var reader = new JsonLinesReader(options);
        JsonLineResult many = reader.DecodeLine("""{"type":"metric","ts":1700000000000,"service":"a","metric":"m","labels":{"a":"1","b":"2","c":"3"},"value":1}"""u8, 1);
        JsonLineResult tooLong = reader.DecodeLine("""{"type":"metric","ts":1700000000000,"service":"a","metric":"m","labels":{"a":"12345"},"value":1}"""u8, 2);
        Assert.Equal(DecodeErrorKind.LabelLimitExceeded, many.Error.Kind);
        Assert.Equal(DecodeErrorKind.LabelLimitExceeded, tooLong.Error.Kind);
    }

    [Fact]
    public void AnEmptyKafkaRecordIsAnEmptyError()
    {
        var batch = new DecodeBatch();
        new JsonLinesReader().Decode("  \n"u8, batch);
        Assert.Equal(DecodeErrorKind.Empty, Assert.Single(batch.Errors).Kind);
    }

    [Fact]
    public void AnOversizedRecordIsRefusedWithoutParsing()
    {
        var batch = new DecodeBatch();
        new JsonLinesReader(new DecodeOptions { MaxRecordBytes = 10 }).Decode("""{"type":"metric"}"""u8, batch);
        Assert.Equal(DecodeErrorKind.Oversized, Assert.Single(batch.Errors).Kind);
    }
}

public class JsonLinesWriterTests
{
    [Fact]
    public void MetricsAndSpansRoundTripThroughWriterAndReader()
    {
        var points = new[]
        {
            new MetricPoint(new SeriesKey("checkout", "http.server.duration.p99", "method=GET,route=/pay"), MetricKind.Latency, 1_700_000_000_000, 123.4),
            new MetricPoint(new SeriesKey("checkout", "errors", ""), MetricKind.ErrorRate, 1_700_000_060_000, 0.005, 60000),
            new MetricPoint(new SeriesKey("cart \"quoted\"", "cpu.utilization", "host=é"), MetricKind.Saturation, 1_700_000_120_000, 0.1 + 0.2),
        };
        var span = new SpanRecord
        {
            TraceId = new UInt128(0x0102030405060708, 0x090a0b0c0d0e0f10),
            SpanId = 0x1112131415161718,
            ParentSpanId = 0x2122232425262728,
            Service = "cart",
            ServiceInstance = "cart-1",
            Name = "SELECT",
            Kind = SpanKind.Client,
            StartUnixNanos = 1_700_000_000_000_000_000,
            EndUnixNanos = 1_700_000_000_012_000_000,
            Status = SpanStatus.Ok,
            DbSystem = "postgresql",
            ServerAddress = "db-1",
            Attributes = [new SpanAttribute("db.statement", "SELECT 1")],
        };

        var stream = new MemoryStream();
        using (var writer = new JsonLinesWriter(stream, leaveOpen: true))
        {
            foreach (MetricPoint p in points)
            {
                writer.Write(p);
            }

            writer.Write(span);
        }

        stream.Position = 0;
        List<JsonLineResult> back = new JsonLinesReader().Read(stream).ToList();
        Assert.Equal(4, back.Count);
        Assert.All(back, r => Assert.NotEqual(JsonLineType.Error, r.Type));
        Assert.Equal(points, back.Take(3).Select(r => r.Metric));
        SpanRecord s = back[3].Span;
        Assert.Equal(span.TraceId, s.TraceId);
        Assert.Equal(span.SpanId, s.SpanId);
        Assert.Equal(span.ParentSpanId, s.ParentSpanId);
        Assert.Equal(span.ServiceInstance, s.ServiceInstance);
        Assert.Null(s.ServiceVersion);
        Assert.Equal(span.Kind, s.Kind);
        Assert.Equal(span.Status, s.Status);
        Assert.Equal(span.StartUnixNanos, s.StartUnixNanos);
        Assert.Equal(span.EndUnixNanos, s.EndUnixNanos);
        Assert.Equal(span.DbSystem, s.DbSystem);
        Assert.Equal(span.ServerAddress, s.ServerAddress);
        Assert.Equal(span.Attributes, s.Attributes);
    }

    [Fact]
    public void EachRecordIsOneLine()
    {
        var stream = new MemoryStream();
        using (var writer = new JsonLinesWriter(stream, leaveOpen: true))
        {
            writer.Write(new MetricPoint(new SeriesKey("a", "m"), MetricKind.Generic, 1_700_000_000_000, 1));
            writer.Write(new MetricPoint(new SeriesKey("a", "m"), MetricKind.Generic, 1_700_000_001_000, 2));
        }

        string text = Encoding.UTF8.GetString(stream.ToArray());
        Assert.Equal(
            "{\"type\":\"metric\",\"ts\":1700000000000,\"service\":\"a\",\"metric\":\"m\",\"kind\":\"generic\",\"value\":1}\n" +
            "{\"type\":\"metric\",\"ts\":1700000001000,\"service\":\"a\",\"metric\":\"m\",\"kind\":\"generic\",\"value\":2}\n",
            text);
    }

    [Fact]
    public void ANonFiniteValueIsRefusedByTheWriter()
    {
        using var writer = new JsonLinesWriter(new MemoryStream());
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(new MetricPoint(new SeriesKey("a", "m"), MetricKind.Generic, 1, double.NaN)));
    }
}
