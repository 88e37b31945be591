using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Aiops.Worker.Outbound;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// The consume loop of <c>aiops run</c>: a consumer-group member on the metrics and spans topics.
/// Each record is decoded and fed to the processor; an undecodable one is copied to the dead-letter
/// topic. Every <see cref="KafkaOptions.MaxBatchRecords"/> records or
/// <see cref="KafkaOptions.CommitIntervalMs"/> the batch is closed: incident events are produced,
/// the producer is flushed (incidents and dead letters acknowledged), the state is checkpointed
/// when due, and only then are the offsets committed: at-least-once, and since incident ids are
/// deterministic a replayed record does not make a second incident.
/// A fatal Kafka error stops the host through <see cref="IHostApplicationLifetime"/>.
/// </summary>
internal sealed class StreamWorker : BackgroundService
{
    /// <summary>Header names on dead-letter records.</summary>
    internal const string HeaderErrorKind = "aiops.error.kind";
    internal const string HeaderErrorReason = "aiops.error.reason";
    internal const string HeaderSourceTopic = "aiops.source.topic";
    internal const string HeaderSourcePartition = "aiops.source.partition";
    internal const string HeaderSourceOffset = "aiops.source.offset";
    internal const string HeaderPartial = "aiops.error.partial";
    internal const string HeaderTruncated = "aiops.error.truncated";
    internal const string HeaderSourceBytes = "aiops.source.bytes";

    /// <summary>
    /// Most bytes of the original key and of the original headers (together) copied to a dead
    /// letter: 64 KiB. Larger ones are dropped (the reason headers say so), so a record with a
    /// huge key or header can still be dead-lettered under the 1,000,000-byte message limit.
    /// </summary>
    internal const int MaxCopiedKeyAndHeaderBytes = 64 * 1024;

    private readonly KafkaClients _clients;
    private readonly KafkaOptions _options;
    private readonly LimitsOptions _limits;
    private readonly RecordHandler _handler;
    private readonly ITelemetryProcessor _processor;
    private readonly StateCheckpointer _checkpointer;
    private readonly WorkerMetrics _metrics;
    private readonly WorkerHealth _health;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<StreamWorker> _logger;
    private readonly OutboundRedaction _redaction;
    private readonly Dictionary<TopicPartition, TopicPartitionOffset> _pending = [];
    private readonly List<IncidentMessage> _incidents = [];
    private readonly HashSet<string> _loggedKinds = new(StringComparer.Ordinal);
    private readonly Stopwatch _sinceCommit = new();
    private readonly Stopwatch _batchWatch = new();
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private IProducer<byte[]?, byte[]?>? _producer;
    private Error? _deliveryError;
    private int _batchRecords;

    public StreamWorker(
        KafkaClients clients,
        IOptions<KafkaOptions> options,
        IOptions<LimitsOptions> limits,
        RecordHandler handler,
        ITelemetryProcessor processor,
        StateCheckpointer checkpointer,
        WorkerMetrics metrics,
        WorkerHealth health,
        IHostApplicationLifetime lifetime,
        ILogger<StreamWorker> logger,
        OutboundRedaction redaction)
    {
        _redaction = redaction;
        _clients = clients;
        _options = options.Value;
        _limits = limits.Value;
        _handler = handler;
        metrics.SetSeriesLimit(_limits.MaxSeries);
        _processor = processor;
        _checkpointer = checkpointer;
        _metrics = metrics;
        _health = health;
        _lifetime = lifetime;
        _logger = logger;
    }

    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // librdkafka's Consume blocks: give the loop its own thread instead of a pool thread.
        Task.Factory.StartNew(() => RunGuarded(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void RunGuarded(CancellationToken stoppingToken)
    {
        try
        {
            Run(stoppingToken);
        }
        catch (Exception ex)
        {
            _health.ReportFatal(ex.Message);
            Log.FatalError(_logger, ex.Message, ex);
            Environment.ExitCode = 1;
            _lifetime.StopApplication();
        }
    }

    private void Run(CancellationToken stoppingToken)
    {
        Log.WorkerStarting(_logger, _clients.BootstrapServers, _options.GroupId, _options.MetricsTopic, _options.MetricsEncoding, _options.SpansTopic, _options.SpansEncoding);
        Log.KafkaSecurity(_logger, _clients.Security.ToString(), _options.DescribeClientProperties());
        _checkpointer.RestoreIfNewer();

        using var producer = _clients.CreateProducerBuilder()
            .SetErrorHandler((_, e) => OnClientError(e))
            .SetLogHandler(static (_, _) => { })
            .Build();
        _producer = producer;
        using var consumer = _clients.CreateConsumerBuilder()
            .SetErrorHandler((_, e) => OnClientError(e))
            .SetLogHandler(static (_, _) => { })
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                Log.PartitionsAssigned(_logger, string.Join(", ", partitions));
                _checkpointer.RestoreIfNewer();
                _metrics.PartitionsAssigned(partitions.Count);
            })
            .SetPartitionsRevokedHandler((_, partitions) =>
            {
                Log.PartitionsRevoked(_logger, string.Join(", ", partitions));
                CloseBatch(forceCheckpoint: true);
                _metrics.PartitionsAssigned(-partitions.Count);
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                // Lost partitions may already belong to another member: committing them would fail,
                // and their records will be re-read there. Forget what was pending for them.
                foreach (var p in partitions)
                {
                    _pending.Remove(p.TopicPartition);
                }

                _metrics.PartitionsAssigned(-partitions.Count);
            })
            .Build();
        _consumer = consumer;
        consumer.Subscribe([_options.MetricsTopic, _options.SpansTopic]);
        _health.ReportRunning();
        _sinceCommit.Start();
        var poll = TimeSpan.FromMilliseconds(_options.PollTimeoutMs);

        while (!stoppingToken.IsCancellationRequested)
        {
            ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                result = consumer.Consume(poll);
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                Log.ClientError(_logger, ex.Error.Reason);
                continue;
            }

            if (result is { IsPartitionEOF: false, Message: not null })
            {
                if (_batchRecords == 0)
                {
                    _batchWatch.Restart();
                }

                HandleRecord(result);
                _pending[result.TopicPartition] = new TopicPartitionOffset(result.TopicPartition, result.Offset + 1);
                _batchRecords++;
            }

            if (_batchRecords >= _options.MaxBatchRecords || (_batchRecords > 0 && _sinceCommit.ElapsedMilliseconds >= _options.CommitIntervalMs))
            {
                CloseBatch(forceCheckpoint: false);
            }
        }

        // Graceful stop: the record in hand is done; produce its incidents, checkpoint and commit.
        CloseBatch(forceCheckpoint: true);
        consumer.Close();
        _consumer = null;
        _producer = null;
        Log.WorkerStopped(_logger, _metrics.Records, _metrics.IncidentEvents, _metrics.DeadLetters);
    }

    private void HandleRecord(ConsumeResult<byte[]?, byte[]?> result)
    {
        var isSpans = string.Equals(result.Topic, _options.SpansTopic, StringComparison.Ordinal);
        var signal = isSpans ? SignalKind.Spans : SignalKind.Metrics;
        var encoding = isSpans ? _options.SpansEncoding : _options.MetricsEncoding;
        var outcome = _handler.Handle(signal, encoding, result.Message.Value);
        if (!outcome.Success)
        {
            DeadLetter(result, outcome.ErrorKind ?? "unknown", outcome.Reason ?? "unknown", outcome.Partial);
        }
    }

    private void DeadLetter(ConsumeResult<byte[]?, byte[]?> result, string kind, string reason, bool partial)
    {
        _metrics.DeadLetter(kind);
        reason = _redaction.Text(reason);
        if (_loggedKinds.Add(kind))
        {
            Log.FirstDeadLetterOfKind(_logger, kind, result.Topic, result.Partition.Value, result.Offset.Value, reason);
        }

        // Redact before cutting to size, so a cut cannot split a pattern and let half of it through.
        var value = _redaction.DeadLetterBytes(result.Message.Value);
        var sourceBytes = result.Message.Value?.Length ?? 0;
        var truncated = value is not null && value.Length > _limits.MaxDeadLetterValueBytes;
        if (truncated)
        {
            value = value.AsSpan(0, _limits.MaxDeadLetterValueBytes).ToArray();
        }

        var key = _redaction.DeadLetterBytes(result.Message.Key);
        var copied = key?.Length ?? 0;
        var headers = new Headers();
        if (result.Message.Headers is not null)
        {
            foreach (var header in result.Message.Headers)
            {
                var bytes = _redaction.HeaderValue(header.Key, header.GetValueBytes());
                copied += header.Key.Length + bytes.Length;
                if (copied <= MaxCopiedKeyAndHeaderBytes)
                {
                    headers.Add(header.Key, bytes);
                }
            }
        }

        if (copied > MaxCopiedKeyAndHeaderBytes)
        {
            // Too big to carry along: keep the reason, drop the original key and headers.
            key = null;
            headers = [];
            reason += string.Create(CultureInfo.InvariantCulture, $" (original key and headers, {copied} bytes, not copied)");
        }

        headers.Add(HeaderErrorKind, Encoding.UTF8.GetBytes(kind));
        headers.Add(HeaderErrorReason, Encoding.UTF8.GetBytes(reason));
        headers.Add(HeaderSourceTopic, Encoding.UTF8.GetBytes(result.Topic));
        headers.Add(HeaderSourcePartition, Encoding.UTF8.GetBytes(result.Partition.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(HeaderSourceOffset, Encoding.UTF8.GetBytes(result.Offset.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(HeaderSourceBytes, Encoding.UTF8.GetBytes(sourceBytes.ToString(CultureInfo.InvariantCulture)));
        headers.Add(HeaderPartial, partial ? "true"u8.ToArray() : "false"u8.ToArray());
        headers.Add(HeaderTruncated, truncated ? "true"u8.ToArray() : "false"u8.ToArray());
        headers.Add(OutboundRedaction.HeaderPayload, _redaction.PayloadHeaderValue);
        Produce(_options.DeadLetterTopic, new Message<byte[]?, byte[]?>
        {
            Key = key,
            Value = value,
            Headers = headers,
            Timestamp = result.Message.Timestamp,
        });
    }

    /// <summary>
    /// Ends the current batch: produce incident events, flush, checkpoint, commit. Called from the
    /// consume thread only (the rebalance handlers run inside <c>Consume</c> on that thread).
    /// </summary>
    private void CloseBatch(bool forceCheckpoint)
    {
        var consumer = _consumer;
        var producer = _producer;
        if (consumer is null || producer is null)
        {
            return;
        }

        _processor.DrainIncidents(_incidents);
        foreach (var drained in _incidents)
        {
            var incident = _redaction.Incident(drained);
            Produce(_options.IncidentsTopic, new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(incident.IncidentId),
                Value = IncidentJsonContext.ToUtf8(incident),
            });
            Log.IncidentEvent(_logger, incident.IncidentId, incident.Event, incident.Symptom);
        }

        var remaining = producer.Flush(TimeSpan.FromMilliseconds(_options.FlushTimeoutMs));
        if (remaining > 0)
        {
            throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"{remaining} incident/dead-letter records not acknowledged within Kafka:FlushTimeoutMs={_options.FlushTimeoutMs}; offsets not committed."));
        }

        if (Volatile.Read(ref _deliveryError) is { } deliveryError)
        {
            throw new KafkaException(new Error(deliveryError.Code, $"An incident or dead-letter record was not delivered ({deliveryError.Reason}); offsets not committed."));
        }

        _metrics.IncidentsProduced(_incidents.Count);
        _incidents.Clear();

        if (_pending.Count > 0 || forceCheckpoint)
        {
            _checkpointer.SaveIfDue(forceCheckpoint && _batchRecords > 0);
        }

        if (_pending.Count > 0)
        {
            var offsets = _pending.Values.ToList();
            consumer.Commit(offsets);
            _metrics.Committed();
            foreach (var o in offsets)
            {
                _metrics.CommittedOffset(o.Topic, o.Partition.Value, o.Offset.Value);
            }

            Log.Committed(_logger, offsets.Count, _batchRecords);
            _pending.Clear();
        }

        if (_batchRecords > 0)
        {
            _metrics.ObserveBatch(_batchWatch.Elapsed);
        }

        _metrics.SetState(_processor.SeriesCount, _processor.EvictedSeries, _processor.AnomalyCount, Lag(consumer));
        _batchRecords = 0;
        _sinceCommit.Restart();
    }

    private static long Lag(IConsumer<byte[]?, byte[]?> consumer)
    {
        long lag = 0;
        foreach (var partition in consumer.Assignment)
        {
            var watermarks = consumer.GetWatermarkOffsets(partition);
            Offset position;
            try
            {
                position = consumer.Position(partition);
            }
            catch (KafkaException)
            {
                continue;
            }

            if (watermarks.High != Offset.Unset && position != Offset.Unset && watermarks.High.Value > position.Value)
            {
                lag += watermarks.High.Value - position.Value;
            }
        }

        return lag;
    }

    private void Produce(string topic, Message<byte[]?, byte[]?> message)
    {
        var producer = _producer!;
        while (true)
        {
            try
            {
                producer.Produce(topic, message, report =>
                {
                    if (report.Error.IsError)
                    {
                        // Delivery reports arrive on the producer's poll thread.
                        Interlocked.CompareExchange(ref _deliveryError, report.Error, null);
                    }
                });
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The local queue holds 100,000 messages by default; wait for deliveries to drain it.
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    private void OnClientError(Error error)
    {
        if (error.IsFatal)
        {
            _health.ReportFatal(error.Reason);
            Log.FatalError(_logger, error.Reason, null);
            Environment.ExitCode = 1;
            _lifetime.StopApplication();
        }
        else
        {
            Log.ClientError(_logger, error.Reason);
        }
    }
}
