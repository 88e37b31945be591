using System.Text;
using Aiops.Core;
using Aiops.Ingestion.Otlp;

namespace Aiops.Ingestion.Tests;

public class OtlpJsonTests
{
    // An OTLP/JSON ExportMetricsServiceRequest written for this test in the protobuf JSON mapping:
    // lowerCamelCase names, int64 as strings, enum as integers.
    private const string MetricsJson = """
        {
          "resourceMetrics": [{
            "resource": { "attributes": [ { "key": "service.name", "value": { "stringValue": "checkout" } } ] },
            "scopeMetrics": [{
              "scope": { "name": "manual" },
              "metrics": [
                { "name": "system.cpu.utilization", "unit": "1",
                  "gauge": { "dataPoints": [ { "attributes": [ { "key": "cpu", "value": { "intValue": "3" } } ],
                                               "timeUnixNano": "1700000000000000000", "asDouble": 0.75 } ] } },
                { "name": "http.server.requests", "unit": "{request}",
                  "sum": { "aggregationTemporality": 1, "isMonotonic": true,
                           "dataPoints": [ { "startTimeUnixNano": "1700000000000000000", "timeUnixNano": "1700000010000000000", "asInt": "250" } ] } },
                { "name": "http.server.request.duration", "unit": "s",
                  "histogram": { "aggregationTemporality": 1,
                    "dataPoints": [ { "startTimeUnixNano": "1700000000000000000", "timeUnixNano": "1700000010000000000",
                                      "count": "4", "sum": 0.1, "bucketCounts": ["0", "4", "0"], "explicitBounds": [0.01, 0.05],
                                      "exemplars": [ { "timeUnixNano": "1700000005000000000", "asDouble": 0.03,
                                                       "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174" } ] } ] } },
                { "name": "bad.gauge", "gauge": { "dataPoints": [ { "timeUnixNano": "1700000000000000000", "asDouble": "NaN" } ] } }
              ]
            }]
          }]
        }
        """;

    private const string TracesJson = """
        {
          "resourceSpans": [{
            "resource": { "attributes": [
              { "key": "service.name", "value": { "stringValue": "frontend" } },
              { "key": "service.instance.id", "value": { "stringValue": "fe-7" } } ] },
            "scopeSpans": [{
              "spans": [
                { "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "parentSpanId": "eee19b7ec3c1b173",
                  "name": "GET /api", "kind": 3, "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000250000000",
                  "attributes": [ { "key": "peer.service", "value": { "stringValue": "api" } },
                                  { "key": "http.response.status_code", "value": { "intValue": "503" } } ],
                  "status": { "code": 2, "message": "upstream" } },
                { "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b175", "name": "bad", "kind": 17,
                  "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000000000001" }
              ]
            }]
          }]
        }
        """;

    [Fact]
    public void AnOtlpJsonMetricsSampleDecodesToTheExpectedPoints()
    {
        var batch = new DecodeBatch();
        new OtlpMetricsDecoder().DecodeJson(Encoding.UTF8.GetBytes(MetricsJson), batch);
        const long ts = 1_700_000_000_000;
        Dictionary<string, MetricPoint> byName = batch.Metrics.ToDictionary(p => p.Series.Metric);

        // Gauge: 0.75, label cpu=3 (intValue rendered as text), "utilization" → Saturation.
        Assert.Equal(new MetricPoint(new SeriesKey("checkout", "system.cpu.utilization", "cpu=3"), MetricKind.Saturation, ts, 0.75), byName["system.cpu.utilization"]);

        // Delta sum: 250 requests over 10 s = 25/s, monotonic → Throughput.
        Assert.Equal(new MetricPoint(new SeriesKey("checkout", "http.server.requests", ""), MetricKind.Throughput, ts + 10_000, 25), byName["http.server.requests"]);

        // Histogram in seconds: all 4 observations in (0.01, 0.05]; p50 rank 2 of 4 → 0.01 + 0.04·0.5 = 0.03 s = 30 ms.
        Assert.Equal(30.0, byName["http.server.request.duration.p50"].Value, 9);
        Assert.Equal(MetricKind.Latency, byName["http.server.request.duration.p50"].Kind);
        Assert.Equal(0.4, byName["http.server.request.duration.rate"].Value, 12); // 4 / 10 s

        MetricExemplar e = Assert.Single(batch.Exemplars);
        Assert.Equal("5b8efff798038103d269b633813fc60c", e.TraceIdHex);
        Assert.Equal(0xeee19b7ec3c1b174UL, e.SpanId);
        Assert.Equal(30.0, e.Value, 9); // 0.03 s in ms

        // The NaN gauge is reported, the rest survive.
        DecodeError error = Assert.Single(batch.Errors);
        Assert.Equal(DecodeErrorKind.NonFiniteValue, error.Kind);
        Assert.Contains("bad.gauge", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOtlpJsonTracesSampleDecodesToTheExpectedSpans()
    {
        var batch = new DecodeBatch();
        new OtlpTraceDecoder().DecodeJson(Encoding.UTF8.GetBytes(TracesJson), batch);
        SpanRecord s = Assert.Single(batch.Spans);
        Assert.Equal(UInt128.Parse("5b8efff798038103d269b633813fc60c", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture), s.TraceId);
        Assert.Equal(0xeee19b7ec3c1b174UL, s.SpanId);
        Assert.Equal(0xeee19b7ec3c1b173UL, s.ParentSpanId);
        Assert.Equal("frontend", s.Service);
        Assert.Equal("fe-7", s.ServiceInstance);
        Assert.Equal(SpanKind.Client, s.Kind);
        Assert.Equal(SpanStatus.Error, s.Status);
        Assert.Equal("api", s.PeerService);
        Assert.Equal(250.0, s.DurationMs);
        Assert.Equal([new SpanAttribute("http.response.status_code", "503")], s.Attributes);

        DecodeError error = Assert.Single(batch.Errors);
        Assert.Equal(DecodeErrorKind.UnknownEnumValue, error.Kind);
        Assert.Contains("spans[1]", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", DecodeErrorKind.Empty)]
    [InlineData("{\"resourceMetrics\": [", DecodeErrorKind.MalformedJson)]
    [InlineData("[1,2]", DecodeErrorKind.MalformedJson)]
    public void ABrokenOtlpJsonRecordIsOneTypedError(string json, DecodeErrorKind expected)
    {
        var batch = new DecodeBatch();
        new OtlpMetricsDecoder().DecodeJson(Encoding.UTF8.GetBytes(json), batch);
        Assert.Equal(expected, Assert.Single(batch.Errors).Kind);
    }

    [Fact]
    public void InvalidUtf8InOtlpJsonIsReportedAsSuch()
    {
        byte[] json = [.. "{\"resourceMetrics\":[{\"x\":\""u8, 0xFF, .. "\"}]}"u8];
        var batch = new DecodeBatch();
        new OtlpTraceDecoder().DecodeJson(json, batch);
        Assert.Equal(DecodeErrorKind.InvalidUtf8, Assert.Single(batch.Errors).Kind);
    }
}
