using System.Globalization;
using Aiops.Core;
using Aiops.Ingestion.Otlp;

namespace Aiops.Ingestion.Tests;

public class OtlpMetricsDecoderTests
{
    private const long T0 = 1_700_000_000_000_000_000; // 2023-11-14T22:13:20Z in Unix ns
    private const long Second = 1_000_000_000;

    private static DecodeBatch Decode(byte[] payload, OtlpMetricsDecoder? decoder = null)
    {
        var batch = new DecodeBatch();
        (decoder ?? new OtlpMetricsDecoder()).Decode(payload, batch);
        return batch;
    }

    [Fact]
    public void HandAssembledGaugeBytesDecodeToOnePoint()
    {
        // ExportMetricsServiceRequest { resource_metrics(1) { resource(1) { attributes(1) service.name=checkout }
        //   scope_metrics(2) { metrics(2) { name(1) "queue.depth", unit(3) "", gauge(5) { data_points(1) {
        //   attributes(7) topic=orders, time_unix_nano(3) T0, as_double(4) 42.5 } } } } }
        byte[] payload = Pb.ResourceMetrics("checkout",
            Pb.Metric("queue.depth", "", 5, Pb.GaugePoint(T0, 42.5, Pb.StringAttribute(7, "topic", "orders"))));
        DecodeBatch batch = Decode(payload);
        Assert.Empty(batch.Errors);
        MetricPoint p = Assert.Single(batch.Metrics);

        // "queue" in the name → Saturation (MetricKindRules); T0 ns / 1e6 = ms.
        Assert.Equal(new MetricPoint(new SeriesKey("checkout", "queue.depth", "topic=orders"), MetricKind.Saturation, T0 / 1_000_000, 42.5), p);
    }

    [Fact]
    public void MetricPointsRoundTripThroughTheEncoder()
    {
        var points = new List<MetricPoint>
        {
            new(new SeriesKey("checkout", "http.server.duration.p99", "method=GET,route=/pay"), MetricKind.Latency, T0 / 1_000_000, 123.4),
            new(new SeriesKey("checkout", "errors", ""), MetricKind.ErrorRate, T0 / 1_000_000, 0.005, 60000),
            new(new SeriesKey("cart", "requests", "zone=a"), MetricKind.Throughput, T0 / 1_000_000 + 1000, 12),
            new(new SeriesKey("cart", "thing", ""), MetricKind.Generic, T0 / 1_000_000 + 2000, -3.5),
        };
        DecodeBatch batch = Decode(OtlpProtobufEncoder.EncodeMetricPoints(points));
        Assert.Empty(batch.Errors);
        Assert.Equal(points, batch.Metrics);
    }

    [Fact]
    public void ACumulativeSumBecomesARateAndAResetIsDetectedAndCounted()
    {
        // Counter: start T0; 10 @ T0+10s, 30 @ +20s, 50 @ +30s; then the process restarts at +35s
        // (new start time) and reports 5 @ +40s; then 4 @ +50s with the same start (a decrease: reset).
        OtlpMetric Counter(long start, long time, double value) => new()
        {
            Name = "http.server.requests",
            Type = OtlpMetricType.Sum,
            Temporality = OtlpTemporality.Cumulative,
            IsMonotonic = true,
            Points = [new OtlpDataPoint { StartTimeUnixNano = start, TimeUnixNano = time, Value = value }],
        };
        var decoder = new OtlpMetricsDecoder();
        var results = new List<double>();
        int resets = 0, primed = 0;
        foreach (var m in new[]
        {
            Counter(T0, T0 + (10 * Second), 10),
            Counter(T0, T0 + (20 * Second), 30),
            Counter(T0, T0 + (30 * Second), 50),
            Counter(T0 + (35 * Second), T0 + (40 * Second), 5),
            Counter(T0 + (35 * Second), T0 + (50 * Second), 4),
        })
        {
            DecodeBatch b = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "api", Metrics = [m] }]), decoder);
            Assert.Empty(b.Errors);
            results.AddRange(b.Metrics.Select(p => p.Value));
            Assert.All(b.Metrics, p => Assert.Equal(MetricKind.Throughput, p.Kind));
            resets += b.Resets;
            primed += b.Primed;
        }

        // (30-10)/10 s = 2; (50-30)/10 s = 2; reset with known start: 5 since +35 s over 5 s = 1;
        // decrease 5 → 4 without a start change: the counter restarted, 4 over the 10 s since the last point = 0.4.
        Assert.Equal([2.0, 2.0, 1.0, 0.4], results);
        Assert.Equal(2, resets);
        Assert.Equal(1, primed);
    }

    [Fact]
    public void ADeltaSumIsARatePerSecondOverItsInterval()
    {
        var m = new OtlpMetric
        {
            Name = "messages.consumed",
            Type = OtlpMetricType.Sum,
            Temporality = OtlpTemporality.Delta,
            IsMonotonic = true,
            Points = [new OtlpDataPoint { StartTimeUnixNano = T0, TimeUnixNano = T0 + (60 * Second), Value = 120 }],
        };
        DecodeBatch b = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "worker", Metrics = [m] }]));

        // 120 messages over 60 s = 2 per second.
        MetricPoint p = Assert.Single(b.Metrics);
        Assert.Equal(2.0, p.Value);
        Assert.Equal((T0 + (60 * Second)) / 1_000_000, p.TimestampMs);
        Assert.Equal(MetricKind.Throughput, p.Kind);
    }

    [Fact]
    public void HistogramQuantilesMatchAHandComputation()
    {
        // Buckets (-inf,10], (10,20], (20,50], (50,+inf) with counts 10, 20, 60, 10 (N = 100), max 100 ms,
        // over 10 s. By hand: p50 rank 50 lies in (20,50] after 30 below: 20 + 30·(20/60) = 30.
        // p95 rank 95 lies in the overflow bucket after 90, which ends at max = 100: 50 + 50·(5/10) = 75.
        // p99: 50 + 50·(9/10) = 95. Rate: 100 observations / 10 s = 10/s.
        var m = new OtlpMetric
        {
            Name = "http.server.request.duration",
            Unit = "ms",
            Type = OtlpMetricType.Histogram,
            Temporality = OtlpTemporality.Delta,
            Points = [new OtlpDataPoint
            {
                StartTimeUnixNano = T0, TimeUnixNano = T0 + (10 * Second), Count = 100, Sum = 3000, Max = 100,
                ExplicitBounds = [10, 20, 50], BucketCounts = [10, 20, 60, 10],
                Exemplars = [new OtlpExemplar(T0 + Second, 97, new UInt128(1, 2), 3)],
            }],
        };
        DecodeBatch b = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "api", Metrics = [m] }]));
        Assert.Empty(b.Errors);
        Dictionary<string, MetricPoint> byName = b.Metrics.ToDictionary(p => p.Series.Metric);
        Assert.Equal(10.0, byName["http.server.request.duration.rate"].Value, 12);
        Assert.Equal(MetricKind.Throughput, byName["http.server.request.duration.rate"].Kind);
        Assert.Equal(30.0, byName["http.server.request.duration.p50"].Value, 12);
        Assert.Equal(75.0, byName["http.server.request.duration.p95"].Value, 12);
        Assert.Equal(95.0, byName["http.server.request.duration.p99"].Value, 12);
        Assert.Equal(MetricKind.Latency, byName["http.server.request.duration.p99"].Kind);

        MetricExemplar e = Assert.Single(b.Exemplars);
        Assert.Equal("http.server.request.duration.p99", e.Series.Metric);
        Assert.Equal("00000000000000010000000000000002", e.TraceIdHex);
        Assert.Equal(3UL, e.SpanId);
    }

    [Fact]
    public void ACumulativeHistogramInSecondsUsesTheDeltaOfBucketCountsAndConvertsToMilliseconds()
    {
        // Bounds in seconds (0.01, 0.02, 0.05). First point primes; the second adds 10 observations,
        // all in (0.01, 0.02]. p50: rank 5 of 10 in that bucket: 0.01 + 0.01·(5/10) = 0.015 s = 15 ms.
        OtlpMetric Point(long time, ulong[] counts) => new()
        {
            Name = "rpc.server.duration",
            Unit = "s",
            Type = OtlpMetricType.Histogram,
            Temporality = OtlpTemporality.Cumulative,
            Points = [new OtlpDataPoint { StartTimeUnixNano = T0, TimeUnixNano = time, Count = (ulong)counts.Sum(c => (long)c), ExplicitBounds = [0.01, 0.02, 0.05], BucketCounts = counts }],
        };
        var decoder = new OtlpMetricsDecoder();
        DecodeBatch first = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "api", Metrics = [Point(T0 + (10 * Second), [5, 5, 5, 0])] }]), decoder);
        Assert.Empty(first.Metrics);
        Assert.Equal(1, first.Primed);
        DecodeBatch second = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "api", Metrics = [Point(T0 + (20 * Second), [5, 15, 5, 0])] }]), decoder);
        Dictionary<string, MetricPoint> byName = second.Metrics.ToDictionary(p => p.Series.Metric);
        Assert.Equal(15.0, byName["rpc.server.duration.p50"].Value, 9);
        Assert.Equal(1.0, byName["rpc.server.duration.rate"].Value, 12); // 10 observations / 10 s
    }

    [Fact]
    public void ExponentialHistogramQuantilesUseBase2ToThe2ToTheMinusScale()
    {
        // scale 0 → base 2. Positive offset 2, counts [4, 4]: buckets (4, 8] and (8, 16], N = 8.
        // p50: rank 4 fills bucket 2 exactly → 2^(2+1) = 8. p95: rank 7.6 → bucket 3, fraction
        // (7.6-4)/4 = 0.9 → 2^(3.9). p99: fraction 0.98 → 2^(3.98).
        var m = new OtlpMetric
        {
            Name = "queue.wait.latency",
            Unit = "ms",
            Type = OtlpMetricType.ExponentialHistogram,
            Temporality = OtlpTemporality.Delta,
            Points = [new OtlpDataPoint { StartTimeUnixNano = T0, TimeUnixNano = T0 + (4 * Second), Count = 8, Scale = 0, PositiveOffset = 2, PositiveBucketCounts = [4, 4] }],
        };
        DecodeBatch b = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "q", Metrics = [m] }]));
        Assert.Empty(b.Errors);
        Dictionary<string, double> v = b.Metrics.ToDictionary(p => p.Series.Metric, p => p.Value);
        Assert.Equal(8.0, v["queue.wait.latency.p50"], 12);
        Assert.Equal(Math.Pow(2, 3.9), v["queue.wait.latency.p95"], 12);
        Assert.Equal(Math.Pow(2, 3.98), v["queue.wait.latency.p99"], 12);
        Assert.Equal(2.0, v["queue.wait.latency.rate"], 12); // 8 / 4 s
    }

    [Theory]
    [InlineData(0, 3, 8.0)] // base 2: 2^3
    [InlineData(1, 1, 1.4142135623730951)] // base √2: √2
    [InlineData(1, 2, 2.0)] // (√2)^2
    [InlineData(-1, 2, 16.0)] // base 4: 4^2
    [InlineData(3, 8, 2.0)] // base 2^(1/8): (2^(1/8))^8
    [InlineData(0, -2, 0.25)] // 2^-2
    public void ExponentialBucketLowerBoundariesAreBaseToTheIndex(int scale, int index, double expected)
    {
        Assert.Equal(expected, HistogramQuantiles.ExponentialLowerBoundary(index, scale), 14);
    }

    [Fact]
    public void ACumulativeExponentialHistogramWhoseScaleDropsIsSubtractedAfterMergingBuckets()
    {
        // Point 1 at scale 1: positive offset 4, counts [2, 2] (buckets 4, 5 at scale 1).
        // Point 2 at scale 0: offset 2, counts [4 + 6] → bucket 2 at scale 0 = buckets 4 and 5 at scale 1 merged,
        // so the delta is [6] in (4, 8]; p50 rank 3 of 6 → 2^(2 + 0.5) = 5.657 ms.
        OtlpMetric Point(long time, int scale, int offset, ulong[] counts) => new()
        {
            Name = "db.latency",
            Unit = "ms",
            Type = OtlpMetricType.ExponentialHistogram,
            Temporality = OtlpTemporality.Cumulative,
            Points = [new OtlpDataPoint { StartTimeUnixNano = T0, TimeUnixNano = time, Count = (ulong)counts.Sum(c => (long)c), Scale = scale, PositiveOffset = offset, PositiveBucketCounts = counts }],
        };
        var decoder = new OtlpMetricsDecoder();
        Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "db", Metrics = [Point(T0 + Second, 1, 4, [2, 2])] }]), decoder);
        DecodeBatch b = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "db", Metrics = [Point(T0 + (2 * Second), 0, 2, [10])] }]), decoder);
        Assert.Equal(0, b.Resets);
        Dictionary<string, double> v = b.Metrics.ToDictionary(p => p.Series.Metric, p => p.Value);
        Assert.Equal(Math.Pow(2, 2.5), v["db.latency.p50"], 12);
        Assert.Equal(6.0, v["db.latency.rate"], 12);
    }

    [Fact]
    public void ANonMonotonicCumulativeSumIsReadAsALevel()
    {
        var m = new OtlpMetric
        {
            Name = "db.connections.usage",
            Type = OtlpMetricType.Sum,
            Temporality = OtlpTemporality.Cumulative,
            Points = [new OtlpDataPoint { StartTimeUnixNano = T0, TimeUnixNano = T0 + Second, Value = 17 }],
        };
        DecodeBatch b = Decode(OtlpProtobufEncoder.EncodeMetrics([new OtlpResourceMetrics { ServiceName = "db", Metrics = [m] }]));
        MetricPoint p = Assert.Single(b.Metrics);
        Assert.Equal(17.0, p.Value);
        Assert.Equal(MetricKind.Saturation, p.Kind); // "usage" in the name
    }

    [Theory]
    [InlineData("http.server.request.duration", "s", MetricKind.Latency, 1000)]
    [InlineData("thing", "ms", MetricKind.Latency, 1)]
    [InlineData("grpc.latency", "", MetricKind.Latency, 1)]
    [InlineData("http.error_ratio", "", MetricKind.ErrorRate, 1)]
    [InlineData("failure.rate", "%", MetricKind.ErrorRate, 0.01)]
    [InlineData("system.cpu.utilization", "1", MetricKind.Saturation, 1)]
    [InlineData("bytes.sent", "By/s", MetricKind.Throughput, 1)]
    [InlineData("temperature", "Cel", MetricKind.Generic, 1)]
    public void KindRulesFollowTheDocumentedOrder(string name, string unit, MetricKind kind, double scale)
    {
        Assert.Equal((kind, scale), MetricKindRules.Infer(name, unit, monotonicSum: false));
    }
}

public class OtlpTraceDecoderTests
{
    [Fact]
    public void SpansRoundTripThroughTheEncoderWithResourceAndPeerAttributes()
    {
        var spans = new List<SpanRecord>
        {
            new()
            {
                TraceId = UInt128.Parse("0af7651916cd43dd8448eb211c80319c", NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                SpanId = 0xb7ad6b7169203331,
                Service = "cart", ServiceInstance = "cart-1", ServiceVersion = "1.4.2",
                Name = "GET /cart", Kind = SpanKind.Server,
                StartUnixNanos = 1_700_000_000_000_000_000, EndUnixNanos = 1_700_000_000_050_000_000,
                Status = SpanStatus.Error,
                Attributes = [new SpanAttribute("http.route", "/cart")],
            },
            new()
            {
                TraceId = UInt128.Parse("0af7651916cd43dd8448eb211c80319c", NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                SpanId = 0x1, ParentSpanId = 0xb7ad6b7169203331,
                Service = "cart", ServiceInstance = "cart-1", ServiceVersion = "1.4.2",
                Name = "SELECT", Kind = SpanKind.Client,
                StartUnixNanos = 1_700_000_000_010_000_000, EndUnixNanos = 1_700_000_000_020_000_000,
                PeerService = "db", DbSystem = "postgresql", ServerAddress = "db-1", MessagingSystem = null,
            },
            new()
            {
                TraceId = 5, SpanId = 6, Service = "billing", Name = "publish", Kind = SpanKind.Producer,
                StartUnixNanos = 1_700_000_000_000_000_000, EndUnixNanos = 1_700_000_000_000_000_000,
                MessagingSystem = "kafka", Status = SpanStatus.Ok,
            },
        };
        var batch = new DecodeBatch();
        new OtlpTraceDecoder().Decode(OtlpProtobufEncoder.EncodeSpans(spans), batch);
        Assert.Empty(batch.Errors);
        Assert.Equal(3, batch.Spans.Count);
        for (int i = 0; i < spans.Count; i++)
        {
            SpanRecord a = spans[i], b = batch.Spans[i];
            Assert.Equal(a with { Attributes = [] }, b with { Attributes = [] });
            Assert.Equal(a.Attributes, b.Attributes);
        }
    }

    [Fact]
    public void HandAssembledSpanBytesDecode()
    {
        byte[] traceId = Convert.FromHexString("0102030405060708090a0b0c0d0e0f10");
        byte[] spanId = Convert.FromHexString("1112131415161718");
        // ExportTraceServiceRequest { resource_spans(1) { resource(1) { service.name=api }, scope_spans(2) { spans(2) {
        //   trace_id(1), span_id(2), name(5) "op", kind(6) 3=CLIENT, start(7), end(8),
        //   attributes(9) net.peer.name=db.local, attributes(9) retries=int 2, status(15) { code(3) 2=ERROR } } } } }
        byte[] payload = Pb.Len(1,
            Pb.Len(1, Pb.StringAttribute(1, "service.name", "api")),
            Pb.Len(2, Pb.Len(2,
                Pb.Bytes(1, traceId), Pb.Bytes(2, spanId), Pb.Str(5, "op"), Pb.VarintField(6, 3),
                Pb.Fixed64(7, 1_700_000_000_000_000_000), Pb.Fixed64(8, 1_700_000_000_002_000_000),
                Pb.StringAttribute(9, "net.peer.name", "db.local"),
                Pb.Len(9, Pb.Str(1, "retries"), Pb.Len(2, Pb.VarintField(3, 2))),
                Pb.Len(15, Pb.VarintField(3, 2)))));
        var batch = new DecodeBatch();
        new OtlpTraceDecoder().Decode(payload, batch);
        Assert.Empty(batch.Errors);
        SpanRecord s = Assert.Single(batch.Spans);
        Assert.Equal(new UInt128(0x0102030405060708, 0x090a0b0c0d0e0f10), s.TraceId);
        Assert.Equal(0x1112131415161718UL, s.SpanId);
        Assert.Equal("api", s.Service);
        Assert.Equal(SpanKind.Client, s.Kind);
        Assert.Equal(SpanStatus.Error, s.Status);
        Assert.Equal("db.local", s.ServerAddress);
        Assert.Equal(2.0, s.DurationMs);
        Assert.Equal([new SpanAttribute("retries", "2")], s.Attributes);
    }
}
