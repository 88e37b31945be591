using System.Text;
using Aiops.Core;
using Aiops.Ingestion;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Aiops.Worker.Replay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Tests;

/// <summary>Keeps every span the worker hands over; incidents are not its subject.</summary>
internal sealed class SpanCollectingProcessor : ITelemetryProcessor
{
    private readonly Lock _gate = new();
    private readonly List<SpanRecord> _spans = [];

    public long SeriesCount => 0;

    public long EvictedSeries => 0;

    public long AnomalyCount => 0;

    public IReadOnlyList<SpanRecord> Spans
    {
        get
        {
            lock (_gate)
            {
                return [.. _spans];
            }
        }
    }

    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans)
    {
        lock (_gate)
        {
            _spans.AddRange(spans);
        }
    }

    public void DrainIncidents(List<IncidentMessage> into)
    {
    }

    public void SaveState(Stream destination)
    {
    }

    public void RestoreState(Stream source)
    {
    }
}

public sealed class SpanEncodingTests : IClassFixture<BrokerFixture>
{
    // Two spans of one trace in Zipkin API v2 JSON, hand-written: a SERVER span of "checkout" and
    // its CLIENT child calling "payment" (remoteEndpoint), which failed (an "error" tag).
    private const string ZipkinRecord = """
        [{"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312","kind":"SERVER","name":"post /checkout",
          "timestamp":1700000000000000,"duration":25000,"localEndpoint":{"serviceName":"checkout"},"tags":{"http.route":"/checkout"}},
         {"traceId":"463ac35c9f6413ad48485a3953bb6124","parentId":"a2fb4a1d1a96d312","id":"0000000000000007","kind":"CLIENT","name":"charge",
          "timestamp":1700000000005000,"duration":12000,"localEndpoint":{"serviceName":"checkout"},
          "remoteEndpoint":{"serviceName":"payment"},"tags":{"error":"card declined"}}]
        """;

    private readonly BrokerFixture _fixture;

    public SpanEncodingTests(BrokerFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task AZipkinRecordOnTheSpanTopicIsDecodedIntoSpansAndABrokenOneIsDeadLettered()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        await topics.ProduceAsync(topics.Spans, [Encoding.UTF8.GetBytes(ZipkinRecord), "[{\"traceId\":"u8.ToArray()]);
        var settings = topics.Settings("JsonLines");
        settings["Kafka:SpansEncoding"] = nameof(TopicEncoding.ZipkinJson);
        var processor = new SpanCollectingProcessor();

        await using (var worker = await RunningWorker.StartAsync(settings, services =>
        {
            services.AddSingleton<ITelemetryDecoder, IngestionDecoder>();
            services.AddSingleton<ITelemetryProcessor>(processor);
        }))
        {
            await Wait.UntilAsync(() => processor.Spans.Count == 2 && worker.Metrics.DeadLetters == 1, () => $"2 spans and 1 dead letter (have {processor.Spans.Count}, {worker.Metrics.DeadLetters})");
        }

        var spans = processor.Spans;
        var server = Assert.Single(spans, static s => s.Kind == SpanKind.Server);
        var client = Assert.Single(spans, static s => s.Kind == SpanKind.Client);
        Assert.Equal(new UInt128(0x463ac35c9f6413adUL, 0x48485a3953bb6124UL), server.TraceId);
        Assert.Equal("checkout", server.Service);
        Assert.Equal(1_700_000_000_000_000_000L, server.StartUnixNanos); // timestamp µs × 1,000
        Assert.Equal(1_700_000_000_025_000_000L, server.EndUnixNanos); // + 25,000 µs
        Assert.Equal(server.SpanId, client.ParentSpanId); // parentId a2fb4a1d1a96d312
        Assert.Equal("payment", client.PeerService);
        Assert.Equal(SpanStatus.Error, client.Status);

        var dead = Assert.Single(topics.ReadAll(topics.DeadLetters, expected: 1));
        Assert.Equal(nameof(DecodeErrorKind.MalformedJson), Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(StreamWorker.HeaderErrorKind)));
    }

    [Theory]
    [InlineData(TopicEncoding.JaegerProtobuf)]
    [InlineData(TopicEncoding.JaegerJson)]
    [InlineData(TopicEncoding.ZipkinJson)]
    public async Task ASpanOnlyEncodingOnTheMetricsTopicFailsAtStartNamingTheSetting(TopicEncoding encoding)
    {
        var settings = new Dictionary<string, string?> { ["Kafka:MetricsEncoding"] = encoding.ToString(), ["Metrics:Enabled"] = "false" };
        using var host = Hosting.WorkerHost.CreateBuilder([], settings, RunningWorker.Fakes(new RecordingProcessor()), LogLevel.None).Build();

        var exception = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(exception.Failures, f => f.StartsWith("Kafka:MetricsEncoding: ", StringComparison.Ordinal) && f.Contains("carry spans only", StringComparison.Ordinal));
    }

    [Fact]
    public void TheSameSpanEncodingsAreAcceptedOnTheSpansTopic()
    {
        // The spans topic takes every encoding: the validator must only guard the metrics topic.
        var options = new KafkaOptions { SpansEncoding = TopicEncoding.JaegerProtobuf };

        var result = new KafkaOptionsValidator().Validate(null, options);

        Assert.False(result.Failed, result.FailureMessage);
    }

    [Fact]
    public void AReplayDatasetReadsZipkinAndJaegerSpanFilesWithTheWorkersDecoders()
    {
        var directory = Path.Combine(Path.GetTempPath(), "aiops-tests", "foreign-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            // Zipkin: the two spans above on one line. Jaeger JSON: one span per line (hex ids and
            // microsecond numbers are the decoder's documented leniencies). Jaeger protobuf: one
            // Span message (trace id, span id, operation, start, duration, process) behind its varint length.
            File.WriteAllText(Path.Combine(directory, "capture.zipkin.json"), ZipkinRecord.ReplaceLineEndings(" ") + "\n");
            File.WriteAllText(Path.Combine(directory, "capture.jaeger.json"),
                """{"traceId":"0000000000000000000000000000abcd","spanId":"0000000000000001","operationName":"GET /cart","startTime":1700000060000000,"duration":3000,"process":{"serviceName":"cart"}}""" + "\n");
            byte[] span =
            [
                0x0A, 16, .. new byte[15], 0xEF, // 1 trace_id: 16 bytes, value 0xEF
                0x12, 8, 0, 0, 0, 0, 0, 0, 0, 2, // 2 span_id: 8 bytes, value 2
                0x1A, 4, (byte)'s', (byte)'h', (byte)'i', (byte)'p', // 3 operation_name "ship"
                0x32, 6, 0x08, 0x80, 0xE3, 0xCF, 0xAA, 0x06, // 6 start_time { seconds = 1,700,000,128 }: varint 80 E3 CF AA 06
                0x3A, 3, 0x10, 0xE8, 0x07, // 7 duration { nanos = 1,000 }
                0x52, 10, 0x0A, 8, (byte)'s', (byte)'h', (byte)'i', (byte)'p', (byte)'p', (byte)'i', (byte)'n', (byte)'g', // 10 process { service_name "shipping" }
            ];
            File.WriteAllBytes(Path.Combine(directory, "capture.jaeger.pb"), [(byte)span.Length, .. span]);

            var reader = DatasetReader.Read(directory);

            Assert.Empty(reader.Errors);
            Assert.Equal(["capture.jaeger.json", "capture.jaeger.pb", "capture.zipkin.json"], reader.Files.Order(StringComparer.Ordinal));
            Assert.Equal(["checkout", "checkout", "cart", "shipping"], reader.Records.Select(static r => r.Span.Service)); // event-time order: 1,700,000,000 s, then +60 s, then +128 s
            var shipping = reader.Records[^1].Span;
            Assert.Equal((UInt128)0xEF, shipping.TraceId);
            Assert.Equal(1_700_000_128_000_000_000L, shipping.StartUnixNanos);
            Assert.Equal(1_700_000_128_000_001_000L, shipping.EndUnixNanos);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
