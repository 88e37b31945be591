using Aiops.Core;
using Aiops.Ingestion.Otlp;
using Google.Protobuf;
using G = Aiops.Ingestion.Tests.Generated;

namespace Aiops.Ingestion.Tests;

/// <summary>
/// The hand-written decoder reads bytes serialized by Google.Protobuf's generated classes (from
/// Protos/otlp_subset.proto), and the generated parser reads what the hand-written encoder writes.
/// </summary>
public class GeneratedCodeCrossCheckTests
{
    private const ulong T0 = 1_700_000_000_000_000_000;
    private const ulong Second = 1_000_000_000;

    private static G.KeyValue Attribute(string key, string value) => new() { Key = key, Value = new G.AnyValue { StringValue = value } };

    private static G.ExportMetricsServiceRequest Request(string service, params G.Metric[] metrics)
    {
        var scope = new G.ScopeMetrics();
        scope.Metrics.AddRange(metrics);
        var rm = new G.ResourceMetrics { Resource = new G.Resource() };
        rm.Resource.Attributes.Add(Attribute("service.name", service));
        rm.ScopeMetrics.Add(scope);
        var request = new G.ExportMetricsServiceRequest();
        request.ResourceMetrics.Add(rm);
        return request;
    }

    [Fact]
    public void GeneratedGaugeSumAndHistogramBytesDecodeToTheExpectedPoints()
    {
        var gauge = new G.Metric { Name = "process.memory.usage", Unit = "By", Gauge = new G.Gauge() };
        var gp = new G.NumberDataPoint { TimeUnixNano = T0, AsInt = 2048 };
        gp.Attributes.Add(Attribute("pool", "heap"));
        gauge.Gauge.DataPoints.Add(gp);

        G.Metric Counter(ulong time, double value)
        {
            var m = new G.Metric { Name = "requests", Sum = new G.Sum { AggregationTemporality = 2, IsMonotonic = true } };
            m.Sum.DataPoints.Add(new G.NumberDataPoint { StartTimeUnixNano = T0, TimeUnixNano = time, AsDouble = value });
            return m;
        }

        var histogram = new G.Metric { Name = "http.client.request.duration", Unit = "s", Histogram = new G.Histogram { AggregationTemporality = 1 } };
        var hp = new G.HistogramDataPoint { StartTimeUnixNano = T0, TimeUnixNano = T0 + (5 * Second), Count = 10, Sum = 1.5 };
        hp.ExplicitBounds.Add([0.1, 0.2]);
        hp.BucketCounts.Add([0, 10, 0]);
        hp.Exemplars.Add(new G.Exemplar { TimeUnixNano = T0 + Second, AsDouble = 0.15, TraceId = ByteString.CopyFrom(Convert.FromHexString("000102030405060708090a0b0c0d0e0f")), SpanId = ByteString.CopyFrom(Convert.FromHexString("1011121314151617")) });
        histogram.Histogram.DataPoints.Add(hp);

        var decoder = new OtlpMetricsDecoder();
        var batch = new DecodeBatch();
        decoder.Decode(Request("api", gauge, Counter(T0 + (10 * Second), 100), histogram).ToByteArray(), batch);
        decoder.Decode(Request("api", Counter(T0 + (20 * Second), 150)).ToByteArray(), batch);
        Assert.Empty(batch.Errors);
        Dictionary<string, MetricPoint> byName = batch.Metrics.ToDictionary(p => p.Series.Metric);

        // as_int 2048 read as a value; "usage" → Saturation.
        Assert.Equal(new MetricPoint(new SeriesKey("api", "process.memory.usage", "pool=heap"), MetricKind.Saturation, (long)(T0 / 1_000_000), 2048), byName["process.memory.usage"]);

        // Cumulative: first point primes; (150 - 100) / 10 s = 5/s.
        Assert.Equal(5.0, byName["requests"].Value);

        // All 10 observations in (0.1, 0.2] s: p50 = 0.1 + 0.1·0.5 = 0.15 s = 150 ms.
        Assert.Equal(150.0, byName["http.client.request.duration.p50"].Value, 9);
        MetricExemplar e = Assert.Single(batch.Exemplars);
        Assert.Equal("000102030405060708090a0b0c0d0e0f", e.TraceIdHex);
        Assert.Equal(0x1011121314151617UL, e.SpanId);
    }

    [Fact]
    public void TheGeneratedParserReadsWhatTheEncoderWrites()
    {
        var metrics = new List<OtlpMetric>
        {
            new() { Name = "g", Unit = "ms", Kind = MetricKind.Latency, Points = [new OtlpDataPoint { TimeUnixNano = (long)T0, Value = 1.25, Attributes = [new("k", "v")], Total = 40 }] },
            new()
            {
                Name = "e", Type = OtlpMetricType.ExponentialHistogram, Temporality = OtlpTemporality.Delta,
                Points = [new OtlpDataPoint
                {
                    StartTimeUnixNano = (long)T0, TimeUnixNano = (long)(T0 + Second), Count = 7, Sum = 3, Scale = -2, ZeroCount = 1,
                    PositiveOffset = -3, PositiveBucketCounts = [1, 300, 2], NegativeOffset = 5, NegativeBucketCounts = [3], Max = 9,
                    Exemplars = [new OtlpExemplar((long)T0, 2.5, new UInt128(0x0102030405060708, 0x090a0b0c0d0e0f10), 0x1112131415161718)],
                }],
            },
        };
        byte[] bytes = OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "svc", ResourceAttributes = [new("host.name", "h1")], Metrics = metrics }]);
        G.ExportMetricsServiceRequest parsed = G.ExportMetricsServiceRequest.Parser.ParseFrom(bytes);

        G.ResourceMetrics rm = Assert.Single(parsed.ResourceMetrics);
        Assert.Equal(["service.name=svc", "host.name=h1"], rm.Resource.Attributes.Select(a => a.Key + "=" + a.Value.StringValue));
        G.Metric g = rm.ScopeMetrics[0].Metrics[0];
        Assert.Equal("g", g.Name);
        Assert.Equal("ms", g.Unit);
        Assert.Equal("aiops.kind=latency", string.Join(",", g.Metadata.Select(a => a.Key + "=" + a.Value.StringValue)));
        G.NumberDataPoint np = Assert.Single(g.Gauge.DataPoints);
        Assert.Equal(1.25, np.AsDouble);
        Assert.Equal(T0, np.TimeUnixNano);
        Assert.Equal("k", np.Attributes[0].Key);
        Assert.Equal(40.0, np.Attributes[1].Value.DoubleValue);

        G.Metric e = rm.ScopeMetrics[0].Metrics[1];
        Assert.Equal(1, e.ExponentialHistogram.AggregationTemporality);
        G.ExponentialHistogramDataPoint ep = Assert.Single(e.ExponentialHistogram.DataPoints);
        Assert.Equal(-2, ep.Scale);
        Assert.Equal(1UL, ep.ZeroCount);
        Assert.Equal(-3, ep.Positive.Offset);
        Assert.Equal([1UL, 300UL, 2UL], ep.Positive.BucketCounts);
        Assert.Equal(5, ep.Negative.Offset);
        Assert.Equal(9.0, ep.Max);
        Assert.False(ep.HasMin);
        G.Exemplar x = Assert.Single(ep.Exemplars);
        Assert.Equal("0102030405060708090a0b0c0d0e0f10", Convert.ToHexStringLower(x.TraceId.ToByteArray()));
        Assert.Equal("1112131415161718", Convert.ToHexStringLower(x.SpanId.ToByteArray()));
    }

    [Fact]
    public void SpansCrossBothWays()
    {
        var span = new SpanRecord
        {
            TraceId = new UInt128(0xaaaaaaaaaaaaaaaa, 0xbbbbbbbbbbbbbbbb), SpanId = 0xcccccccccccccccc, ParentSpanId = 0xdddddddddddddddd,
            Service = "orders", ServiceVersion = "2.0", Name = "consume", Kind = SpanKind.Consumer,
            StartUnixNanos = (long)T0, EndUnixNanos = (long)(T0 + Second), Status = SpanStatus.Error, MessagingSystem = "kafka",
        };
        G.ExportTraceServiceRequest parsed = G.ExportTraceServiceRequest.Parser.ParseFrom(OtlpProtobufEncoder.EncodeSpans([span]));
        G.Span g = parsed.ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Equal("aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb", Convert.ToHexStringLower(g.TraceId.ToByteArray()));
        Assert.Equal("dddddddddddddddd", Convert.ToHexStringLower(g.ParentSpanId.ToByteArray()));
        Assert.Equal(5, g.Kind);
        Assert.Equal(2, g.Status.Code);
        Assert.Equal("messaging.system", Assert.Single(g.Attributes).Key);

        // And back: the generated message's bytes through the hand-written decoder.
        var batch = new DecodeBatch();
        new OtlpTraceDecoder().Decode(parsed.ToByteArray(), batch);
        Assert.Equal(span with { Attributes = [] }, Assert.Single(batch.Spans) with { Attributes = [] });
    }
}
