using System.Collections.Concurrent;
using System.Diagnostics;
using Aiops.Core;
using Aiops.Ingestion.Otlp;
using Aiops.Simulation;
using Confluent.Kafka;

namespace Aiops.Worker.Demo;

/// <summary>
/// Produces the simulator's telemetry to Kafka as the OpenTelemetry Collector's Kafka exporter
/// would: OTLP protobuf <c>ExportTraceServiceRequest</c> records on the spans topic and
/// <c>ExportMetricsServiceRequest</c> records on the metrics topic, simulated minute by simulated
/// minute, paced to <c>minutesPerSecond</c> simulated minutes per wall-clock second.
/// </summary>
internal sealed class SimulationProducer : IDisposable
{
    /// <summary>
    /// Spans per OTLP record. 200 spans (~40 KB protobuf) is close to what the Collector's batch
    /// processor sends by default (8,192 items max, 200 ms timeout at moderate traffic) while keeping
    /// records far below Kafka's 1 MiB default limit.
    /// </summary>
    internal const int SpansPerRecord = 200;

    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _metricsTopic;
    private readonly string _spansTopic;
    private readonly List<SpanRecord> _chunk = new(SpansPerRecord);
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _endOffsets = new();
    private Error? _error;

    /// <summary>Creates the producer; <paramref name="lingerMs"/> 5 batches a minute's records, 0 sends each at once (the bench paces records one by one).</summary>
    public SimulationProducer(string bootstrapServers, string metricsTopic, string spansTopic, int lingerMs = 5)
    {
        _metricsTopic = metricsTopic;
        _spansTopic = spansTopic;
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            LingerMs = lingerMs,
            // The librdkafka mock cluster behind `aiops demo` keeps at most 5 MiB per partition and
            // silently deletes the oldest batches beyond that (rdkafka_mock.c, max_size). The demo's
            // 120 minutes are ~450 span records of ~20 KB (~9 MiB): uncompressed, the first ~200 were
            // pruned before the worker fetched them and it read only 64% of what was produced. LZ4
            // shrinks the repetitive OTLP protobuf several times over, well under that limit.
            CompressionType = CompressionType.Lz4,
        }).SetLogHandler(static (_, _) => { }).Build();
    }

    /// <summary>Records produced so far.</summary>
    public long Records { get; private set; }

    /// <summary>
    /// Per topic and partition, one past the highest offset acknowledged by the broker: the
    /// high-water mark this producer made, which a consumer's committed offset must reach before
    /// everything produced has been processed. Complete once <see cref="Flush"/> has returned.
    /// </summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> EndOffsets => _endOffsets;

    /// <summary>Spans produced so far.</summary>
    public long Spans { get; private set; }

    /// <summary>Metric points produced so far.</summary>
    public long Points { get; private set; }

    /// <summary>
    /// Produces every batch of <paramref name="simulator"/>; <paramref name="onBatch"/> sees each after
    /// it was handed to the producer. <paramref name="minutesPerSecond"/> ≤ 0 produces as fast as possible.
    /// </summary>
    public async Task ProduceAsync(ShopSimulator simulator, double minutesPerSecond, Action<SimulationBatch>? onBatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        var clock = Stopwatch.StartNew();
        var index = 0;
        foreach (var batch in simulator.Batches())
        {
            cancellationToken.ThrowIfCancellationRequested();
            ProduceBatch(batch);
            onBatch?.Invoke(batch);
            index++;
            if (minutesPerSecond > 0)
            {
                var due = TimeSpan.FromSeconds(index / minutesPerSecond);
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        Flush();
    }

    /// <summary>Produces one simulated minute: its metric points as one record, its spans in chunks.</summary>
    public void ProduceBatch(SimulationBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Metrics.Count > 0)
        {
            Produce(_metricsTopic, OtlpProtobufEncoder.EncodeMetricPoints(batch.Metrics));
            Points += batch.Metrics.Count;
        }

        for (var i = 0; i < batch.Spans.Count; i += SpansPerRecord)
        {
            _chunk.Clear();
            for (var j = i; j < Math.Min(i + SpansPerRecord, batch.Spans.Count); j++)
            {
                _chunk.Add(batch.Spans[j]);
            }

            Produce(_spansTopic, OtlpProtobufEncoder.EncodeSpans(_chunk));
            Spans += _chunk.Count;
        }
    }

    /// <summary>Produces one pre-encoded record.</summary>
    public void Produce(string topic, byte[] value)
    {
        while (true)
        {
            try
            {
                _producer.Produce(topic, new Message<byte[]?, byte[]> { Value = value }, report =>
                {
                    if (report.Error.IsError)
                    {
                        Interlocked.CompareExchange(ref _error, report.Error, null);
                    }
                    else
                    {
                        var next = report.Offset.Value + 1;
                        _endOffsets.AddOrUpdate((report.Topic, report.Partition.Value), next, (_, old) => Math.Max(old, next));
                    }
                });
                Records++;
                return;
            }
            catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    /// <summary>Waits until every record is acknowledged; throws when one was not delivered.</summary>
    public void Flush()
    {
        _producer.Flush(TimeSpan.FromSeconds(30));
        if (Volatile.Read(ref _error) is { } error)
        {
            throw new KafkaException(error);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _producer.Dispose();
}
