using System.Globalization;
using System.Text;
using Aiops.Worker.Processing;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// A real 10 MB record through the embedded broker: produced with LZ4 (the mock cluster keeps
/// 5 MiB per partition, counted in stored, that is compressed, bytes), fetched and decompressed
/// by the worker's consumer, and dead-lettered by the size limit with a truncated copy and the
/// reason, while the good records on both sides of it are processed.
/// </summary>
/// <remarks>
/// Without compression the mock cannot carry it: rdkafka_mock.c trims a partition's log to 5 MiB
/// right after each append, the new 10 MB set included, so the producer is acknowledged but the
/// partition is left empty; with <c>compression.type=none</c> this test timed out with "the
/// worker past offset 2; read 0, dead letters 0". The consumer needs no raised limit: the
/// compressed set is far below <c>max.partition.fetch.bytes</c> (1 MiB here) and librdkafka
/// decompresses it whole (<c>receive.message.max.bytes</c> bounds only the wire response).
/// </remarks>
public sealed class StreamWorkerLargeRecordTests : IClassFixture<BrokerFixture>
{
    /// <summary>The "10 MB record", in decimal megabytes.</summary>
    private const int TenMegabytes = 10_000_000;

    private readonly BrokerFixture _fixture;

    public StreamWorkerLargeRecordTests(BrokerFixture fixture) => _fixture = fixture;

    /// <summary>
    /// A 10,000,000-byte OTLP trace request: a good one-span request repeated (protobuf merges
    /// concatenated messages, so it is well-formed: only its size is wrong), cut to length.
    /// Repetitive, as real oversized batches are, so LZ4 takes it to a few tens of KB.
    /// </summary>
    private static byte[] TenMegabyteRequest()
    {
        var unit = MalformedRecords.GoodSpan(77, 1);
        var value = new byte[TenMegabytes];
        for (var at = 0; at < value.Length; at += unit.Length)
        {
            unit.AsSpan(0, Math.Min(unit.Length, value.Length - at)).CopyTo(value.AsSpan(at));
        }

        return value;
    }

    /// <summary>Produces <paramref name="values"/> in order to partition 0 with LZ4, the uncompressed size limit raised to 16 MiB; returns their offsets.</summary>
    private static List<long> ProduceCompressed(TestTopics topics, IEnumerable<byte[]> values)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = topics.Broker.BootstrapServers,
            EnableIdempotence = true,
            CompressionType = CompressionType.Lz4,
            // librdkafka checks message.max.bytes against the uncompressed record (default 1,000,000).
            MessageMaxBytes = 16 << 20,
        };
        using var producer = new ProducerBuilder<byte[]?, byte[]>(config).Build();
        var offsets = new List<long>();
        foreach (var value in values)
        {
            var report = producer.ProduceAsync(new TopicPartition(topics.Spans, 0), new Message<byte[]?, byte[]> { Value = value }).GetAwaiter().GetResult();
            offsets.Add(report.Offset.Value);
        }

        return offsets;
    }

    [Fact]
    public async Task ATenMegabyteRecordIsDeadLetteredTruncatedWithItsReasonAndTheRecordsAroundItAreProcessed()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        var offsets = ProduceCompressed(topics, [MalformedRecords.GoodSpan(1, 0), TenMegabyteRequest(), MalformedRecords.GoodSpan(2, 0)]);

        var settings = topics.Settings("OtlpProtobuf");
        var processor = new SpanCollectingProcessor();
        await using var worker = await RunningWorker.StartAsync(settings, services =>
        {
            services.AddSingleton<ITelemetryDecoder, IngestionDecoder>();
            services.AddSingleton<ITelemetryProcessor>(processor);
        });
        await Wait.UntilAsync(() => worker.Metrics.CommittedOffsetOf(topics.Spans, 0) >= offsets[^1] + 1, () => $"the worker past offset {offsets[^1]}; read {worker.Metrics.Records}, dead letters {worker.Metrics.DeadLetters}");

        // Both good spans were processed, and nothing of the big one (it was not decoded).
        Assert.Equal([1UL, 2UL], processor.Spans.Select(static s => s.SpanId).Order());

        var dead = Assert.Single(topics.ReadAll(topics.DeadLetters, expected: 1));
        string Header(string key) => Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(key));
        Assert.Equal("Oversized", Header(StreamWorker.HeaderErrorKind));
        // The default Limits:MaxRecordBytes is 8 MiB = 8,388,608 bytes.
        Assert.Contains("10000000 bytes, more than Limits:MaxRecordBytes=8388608", Header(StreamWorker.HeaderErrorReason), StringComparison.Ordinal);
        Assert.Equal("true", Header(StreamWorker.HeaderTruncated));
        Assert.Equal(TenMegabytes.ToString(CultureInfo.InvariantCulture), Header(StreamWorker.HeaderSourceBytes));
        Assert.Equal(offsets[1].ToString(CultureInfo.InvariantCulture), Header(StreamWorker.HeaderSourceOffset));

        // The copy is the record's first Limits:MaxDeadLetterValueBytes (900,000) bytes.
        Assert.Equal(900_000, dead.Message.Value!.Length);
        Assert.True(TenMegabyteRequest().AsSpan(0, 900_000).SequenceEqual(dead.Message.Value), "the dead letter is the head of the original record");
    }
}
