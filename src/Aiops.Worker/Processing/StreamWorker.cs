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
    private readonly IncidentLedger _ledger;
    private readonly PartitionStates _partitions;
    private readonly bool _perPartition;
    private readonly int _checkpointIntervalMs;
    private readonly Stopwatch _sincePartitionSave = new();
    private readonly WorkerMetrics _metrics;
    private readonly WorkerHealth _health;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<StreamWorker> _logger;
    private readonly OutboundRedaction _redaction;
    private readonly InternalTopics _internalTopics;
    private readonly RepartitionOptions _repartitionOptions;
    private readonly IServiceProvider _services;
    private Repartition.RepartitionRouter? _repartition;
    private Repartition.StageCheckpoints? _stageCheckpoints;
    private readonly Dictionary<TopicPartition, TopicPartitionOffset> _pending = [];
    private readonly Dictionary<TopicPartition, long> _processed = [];
    private readonly List<IncidentMessage> _incidents = [];
    private readonly HashSet<string> _loggedKinds = new(StringComparer.Ordinal);
    private readonly Stopwatch _sinceCommit = new();
    private readonly Stopwatch _batchWatch = new();
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private IProducer<byte[]?, byte[]?>? _producer;
    private EventTimeAligner? _aligner;
    private CancellationToken _stopping;
    private Error? _deliveryError;
    private int _batchRecords;

    public StreamWorker(
        KafkaClients clients,
        IOptions<KafkaOptions> options,
        IOptions<LimitsOptions> limits,
        RecordHandler handler,
        ITelemetryProcessor processor,
        StateCheckpointer checkpointer,
        IncidentLedger ledger,
        PartitionStates partitions,
        IOptions<CheckpointOptions> checkpoint,
        WorkerMetrics metrics,
        WorkerHealth health,
        IHostApplicationLifetime lifetime,
        ILogger<StreamWorker> logger,
        OutboundRedaction redaction,
        InternalTopics internalTopics,
        IOptions<RepartitionOptions> repartition,
        IServiceProvider services)
    {
        _repartitionOptions = repartition.Value;
        _services = services;
        _redaction = redaction;
        _internalTopics = internalTopics;
        _clients = clients;
        _options = options.Value;
        _limits = limits.Value;
        _handler = handler;
        metrics.SetSeriesLimit(_limits.MaxSeries);
        _processor = processor;
        _checkpointer = checkpointer;
        _ledger = ledger;
        _partitions = partitions;
        _perPartition = checkpoint.Value.Scope == CheckpointScope.Partition;
        _checkpointIntervalMs = checkpoint.Value.IntervalMs;
        _metrics = metrics;
        _health = health;
        _lifetime = lifetime;
        _logger = logger;
    }

    /// <summary>
    /// Test seam for crash tests: called at the two points where a crash is most harmful (incidents
    /// acknowledged but state not saved; state saved but offsets not committed) with the number of
    /// incident events of the batch. Returning true ends the loop there as a kill would: no
    /// checkpoint, no commit, no leaving the group, clients disposed without closing.
    /// </summary>
    internal Func<CrashPoint, int, bool>? CrashHook { get; set; }

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
        catch (SimulatedCrashException)
        {
            Log.SimulatedCrash(_logger);
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
        _stopping = stoppingToken;
        Log.WorkerStarting(_logger, _clients.BootstrapServers, _options.GroupId, _options.MetricsTopic, _options.MetricsEncoding, _options.SpansTopic, _options.SpansEncoding);
        Log.KafkaSecurity(_logger, _clients.Security.ToString(), _options.DescribeClientProperties());

        // Missing internal topics are created; one with another layout ends here, through the fatal path.
        _internalTopics.Ensure();
        _repartition = _repartitionOptions.Enabled ? Repartition.RepartitionWiring.CreateRouter(_clients, _repartitionOptions, _options, _services) : null;
        using var stageCheckpoints = _repartition is null ? null : Repartition.RepartitionWiring.CreateCheckpoints(_services);
        _stageCheckpoints = stageCheckpoints;
        if (!_perPartition && _repartition is null)
        {
            Restore();
        }

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
                if (_repartition is not null)
                {
                    _repartition.Assign(partitions);
                    if (_stageCheckpoints is not null)
                    {
                        var incidentMarks = new CheckpointPositions();
                        if (_repartition.Restore(partitions, _stageCheckpoints, _processed, incidentMarks))
                        {
                            // The verdicts partition moved here: events its previous owner wrote
                            // after its last save come again from the replayed verdicts.
                            _ledger.LoadSince(incidentMarks);
                        }
                        else if (partitions.Contains(_repartition.VerdictsPartition))
                        {
                            // No stage-C save (an owner killed before its first): the verdicts are
                            // read from the committed offset or the start, so every event already on
                            // the incidents topic may come again; the empty marks read it all back.
                            _ledger.LoadSince(incidentMarks);
                        }
                    }
                }
                else if (_perPartition)
                {
                    AssignPartitionStates(partitions);
                }
                else
                {
                    Restore();
                }

                _metrics.PartitionsAssigned(partitions.Count);
                _aligner?.Assign(partitions);

                // Resume where the state stands, not where the group committed: the two differ
                // after a crash between checkpoint and commit (either order). The position is
                // committed with the next batch even if no record follows on that partition.
                var start = new List<TopicPartitionOffset>(partitions.Count);
                foreach (var p in partitions)
                {
                    if (_processed.TryGetValue(p, out var next))
                    {
                        start.Add(new TopicPartitionOffset(p, next));
                        _pending[p] = new TopicPartitionOffset(p, next);
                    }
                    else
                    {
                        start.Add(new TopicPartitionOffset(p, Offset.Unset));
                    }
                }

                return start;
            })
            .SetPartitionsRevokedHandler((_, partitions) =>
            {
                Log.PartitionsRevoked(_logger, string.Join(", ", partitions));
                // The revoked partitions' states are saved (and their incidents acknowledged)
                // before their offsets are committed, and only then handed over.
                CloseBatch(forceCheckpoint: true);
                Forget(partitions);
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                // Lost partitions may already belong to another member: committing them would fail,
                // and their records will be re-read there. Forget what was pending for them.
                Forget(partitions);
            })
            .Build();
        _consumer = consumer;
        consumer.Subscribe(_repartition is null ? [_options.MetricsTopic, _options.SpansTopic] : [_options.MetricsTopic, _options.SpansTopic, .. _repartition.InternalTopics]);
        _health.ReportRunning();
        _sinceCommit.Start();

        // The aligner orders input records only: with Repartition:Enabled the subscription holds the
        // internal topics too and the stages order by their watermarks instead.
        _aligner = EventTimeAligner.AppliesTo(_options, consumer.Subscription) ? new EventTimeAligner(_options, new ConsumerPartitionFlow(consumer), TimeProvider.System) : null;
        var poll = TimeSpan.FromMilliseconds(_options.PollTimeoutMs);

        while (!stoppingToken.IsCancellationRequested)
        {
            // Event-time alignment: the decoded records are handed over smallest event time first,
            // a batch at most per turn so commits keep their cadence and a stop is seen; with
            // records left releasable the batch is closed and the poll does not wait.
            var full = false;
            while (_aligner is not null && !stoppingToken.IsCancellationRequested && !(full = _batchRecords >= _options.MaxBatchRecords) && _aligner.TryTake(out var aligned))
            {
                HandleAligned(aligned);
                MarkProcessed(aligned.Record);
            }

            ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                result = consumer.Consume(full ? TimeSpan.Zero : poll);
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                Log.ClientError(_logger, ex.Error.Reason);
                continue;
            }

            if (result is { IsPartitionEOF: false, Message: not null })
            {
                if (_aligner is null)
                {
                    HandleRecord(result);
                    MarkProcessed(result);
                }
                else if (_aligner.TryOpen(result, out var buffer))
                {
                    Decode(result, buffer);
                    _aligner.Close();
                }
            }

            if (_batchRecords >= _options.MaxBatchRecords || ((_batchRecords > 0 || _pending.Count > 0 || _repartition is not null) && _sinceCommit.ElapsedMilliseconds >= _options.CommitIntervalMs))
            {
                CloseBatch(forceCheckpoint: false, fromLoop: true);
            }
        }

        // Graceful stop: the record in hand is done; produce its incidents, checkpoint and commit.
        CloseBatch(forceCheckpoint: true);
        if (_aligner is { } aligner)
        {
            Log.AlignmentSummary(_logger, aligner.Waits, (long)aligner.Waited.TotalMilliseconds, aligner.IdleReleases, aligner.Pauses, aligner.Resumes, aligner.Redelivered, aligner.BufferedRecords);
        }
        consumer.Close();
        _consumer = null;
        _producer = null;
        Log.WorkerStopped(_logger, _metrics.Records, _metrics.IncidentEvents, _metrics.DeadLetters);
    }

    /// <summary>
    /// Drops everything held for partitions this member no longer owns (revoked after their
    /// batch was closed, or lost): pending offsets, partition and stage states, alignment buffers.
    /// </summary>
    private void Forget(List<TopicPartitionOffset> partitions)
    {
        var owned = partitions.Select(static p => p.TopicPartition).ToList();
        _repartition?.Revoke(owned);
        _stageCheckpoints?.Forget(owned);
        foreach (var p in owned)
        {
            _pending.Remove(p);
            _processed.Remove(p);
            _partitions.Drop(p);
        }

        _aligner?.Remove(owned);
        _metrics.PartitionsAssigned(-partitions.Count);
    }

    /// <summary>
    /// <c>Checkpoint:Scope=Partition</c>: loads each newly assigned partition's state and puts the
    /// offset it covers in <see cref="_processed"/>, so the assignment starts there; then reads
    /// back the incident events written since the oldest of the loaded states.
    /// </summary>
    private void AssignPartitionStates(List<TopicPartition> partitions)
    {
        var marks = new CheckpointPositions();
        var loaded = false;
        foreach (var p in partitions)
        {
            if (_partitions.Assign(p, marks) is { } next)
            {
                _processed[p] = next;
                loaded = true;
            }
        }

        if (loaded)
        {
            _ledger.LoadSince(marks);
        }
    }

    /// <summary>
    /// Loads the checkpoint when another process (or an earlier life of this one) wrote a newer
    /// one: the state, the input positions it covers, and the incident events written since.
    /// </summary>
    private void Restore()
    {
        var positions = _checkpointer.RestoreIfNewer();
        if (positions is null)
        {
            return;
        }

        _processed.Clear();
        foreach (var (partition, next) in positions.Inputs)
        {
            _processed[partition] = next;
        }

        _ledger.LoadSince(positions);
    }

    /// <summary>The record's offset is done: part of the batch, committed with it.</summary>
    private void MarkProcessed(ConsumeResult<byte[]?, byte[]?> result)
    {
        if (_batchRecords == 0)
        {
            _batchWatch.Restart();
        }

        _pending[result.TopicPartition] = new TopicPartitionOffset(result.TopicPartition, result.Offset + 1);
        _processed[result.TopicPartition] = result.Offset.Value + 1;
        _batchRecords++;
    }

    /// <summary>
    /// Feeds a record released by the aligner (decoded, and dead-lettered if it had to be, when it
    /// arrived) to its processor; a processor failure dead-letters it as <see cref="RecordHandler"/> would.
    /// </summary>
    private void HandleAligned(in AlignedRecord aligned)
    {
        var record = aligned.Record;
        try
        {
            (_perPartition ? _partitions.For(record.TopicPartition) : _processor).Process(aligned.Points, aligned.Spans, aligned.Exemplars);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            DeadLetter(record, RecordHandler.ProcessingExceptionKind, $"{ex.GetType().Name}: {ex.Message}", partial: true);
        }

        if (_perPartition)
        {
            _partitions.Advance(record.TopicPartition, record.Offset.Value + 1);
        }
    }

    /// <summary>
    /// Decodes an input record into <paramref name="sink"/> (the aligner's buffer, a partition's
    /// processor, or with null the process's one); what cannot be read is dead-lettered now.
    /// </summary>
    private void Decode(ConsumeResult<byte[]?, byte[]?> result, ITelemetryProcessor? sink)
    {
        var isSpans = string.Equals(result.Topic, _options.SpansTopic, StringComparison.Ordinal);
        var signal = isSpans ? SignalKind.Spans : SignalKind.Metrics;
        var encoding = isSpans ? _options.SpansEncoding : _options.MetricsEncoding;
        var outcome = sink is null ? _handler.Handle(signal, encoding, result.Message.Value) : _handler.Handle(signal, encoding, result.Message.Value, sink);
        if (!outcome.Success)
        {
            DeadLetter(result, outcome.ErrorKind ?? "unknown", outcome.Reason ?? "unknown", outcome.Partial);
        }
    }

    private void HandleRecord(ConsumeResult<byte[]?, byte[]?> result)
    {
        if (_repartition is not null)
        {
            if (Repartition.RepartitionWiring.Handle(_repartition, result, _handler, _options) is { } failure)
            {
                DeadLetter(result, failure.ErrorKind ?? "unknown", failure.Reason ?? "unknown", failure.Partial);
            }

            return;
        }

        Decode(result, _perPartition ? _partitions.For(result.TopicPartition) : null);
        if (_perPartition)
        {
            _partitions.Advance(result.TopicPartition, result.Offset.Value + 1);
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
    /// While the brokers are unreachable it waits (the loop consumes nothing meanwhile: backpressure)
    /// instead of failing; a commit that fails is retried with the next batch's offsets.
    /// </summary>
    private void CloseBatch(bool forceCheckpoint, bool fromLoop = false)
    {
        var consumer = _consumer;
        var producer = _producer;
        if (consumer is null || producer is null)
        {
            return;
        }

        _repartition?.CloseBatch(p => Repartition.RepartitionWiring.CaughtUp(consumer, p, _processed), (p, message) => Produce(p, message));
        State.DrainIncidents(_incidents);
        var produced = 0;
        foreach (var drained in _incidents)
        {
            var incident = _redaction.Incident(drained);
            var value = IncidentJsonContext.ToUtf8(incident);
            if (_ledger.TryForgetWritten(value))
            {
                // Written before a crash, replayed since the checkpoint: already on the topic.
                _metrics.IncidentSuppressed();
                continue;
            }

            Produce(_options.IncidentsTopic, new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(incident.IncidentId),
                Value = value,
            });
            produced++;
            Log.IncidentEvent(_logger, incident.IncidentId, incident.Event, incident.Symptom);
        }

        if (!FlushUntilAcknowledged(producer))
        {
            // Stopping while the brokers are away: leave the offsets where they are; the records
            // are read again after the restart (at least once).
            _incidents.Clear();
            return;
        }

        if (Volatile.Read(ref _deliveryError) is { } deliveryError)
        {
            throw new KafkaException(new Error(deliveryError.Code, $"An incident or dead-letter record was not delivered ({deliveryError.Reason}); offsets not committed."));
        }

        _metrics.IncidentsProduced(produced);
        _incidents.Clear();
        if (fromLoop && CrashHook?.Invoke(CrashPoint.AfterFlush, produced) == true)
        {
            throw new SimulatedCrashException();
        }

        if (_perPartition && _repartition is null)
        {
            if (!SavePartitionStates(producer, forceCheckpoint))
            {
                // Stopping before the states were acknowledged: leave the offsets uncommitted.
                return;
            }
        }
        else if (_repartition is not null)
        {
            // The stages' baselines, acknowledged by the store before the offsets they cover are committed.
            if (_stageCheckpoints is not null && !_stageCheckpoints.SaveDue(_repartition, _processed, forceCheckpoint, () => CaptureIncidentMarks(producer)))
            {
                return;
            }
        }
        else if ((_pending.Count > 0 || forceCheckpoint) && _checkpointer.IsDue(forceCheckpoint && _batchRecords > 0))
        {
            var positions = new CheckpointPositions();
            foreach (var (partition, next) in _processed)
            {
                positions.Inputs[partition] = next;
            }

            if (_ledger.CaptureMarks(producer, positions))
            {
                _checkpointer.Save(positions);
            }
        }

        if (fromLoop && CrashHook?.Invoke(CrashPoint.AfterCheckpoint, produced) == true)
        {
            throw new SimulatedCrashException();
        }

        if (_pending.Count > 0)
        {
            Commit(consumer);
        }

        if (_batchRecords > 0)
        {
            _metrics.ObserveBatch(_batchWatch.Elapsed);
        }

        _metrics.SetState(State.SeriesCount, State.EvictedSeries, State.AnomalyCount, Lag(consumer));
        _batchRecords = 0;
        _sinceCommit.Restart();
    }

    /// <summary>The state the loop feeds: the process's processor, or every partition's own.</summary>
    private ITelemetryProcessor State => _repartition ?? (_perPartition ? _partitions : _processor);

    private CheckpointPositions? CaptureIncidentMarks(IProducer<byte[]?, byte[]?> producer)
    {
        var marks = new CheckpointPositions();
        return _ledger.CaptureMarks(producer, marks) ? marks : null;
    }

    private bool SavePartitionStates(IProducer<byte[]?, byte[]?> producer, bool force)
    {
        if (!_partitions.Enabled || (!force && _sincePartitionSave.IsRunning && _sincePartitionSave.ElapsedMilliseconds < _checkpointIntervalMs))
        {
            return true;
        }

        var marks = new CheckpointPositions();
        if (_ledger.CaptureMarks(producer, marks))
        {
            if (!_partitions.SaveDirty(marks))
            {
                return false;
            }

            _sincePartitionSave.Restart();
        }

        return true;
    }

    /// <summary>
    /// Flushes the producer, waiting through broker outages (one <see cref="KafkaOptions.FlushTimeoutMs"/>
    /// at a time, logged) until everything is acknowledged. Returns false only when the host is
    /// stopping and the brokers still have not answered.
    /// </summary>
    private bool FlushUntilAcknowledged(IProducer<byte[]?, byte[]?> producer)
    {
        while (true)
        {
            var remaining = producer.Flush(TimeSpan.FromMilliseconds(_options.FlushTimeoutMs));
            if (remaining == 0)
            {
                _health.ReportRunning();
                return true;
            }

            if (_stopping.IsCancellationRequested)
            {
                Log.StoppingUnflushed(_logger, remaining);
                return false;
            }

            _health.ReportWaiting($"{remaining} incident/dead-letter records not acknowledged after Kafka:FlushTimeoutMs={_options.FlushTimeoutMs}; waiting for the brokers");
            Log.WaitingForBrokers(_logger, remaining, _options.FlushTimeoutMs);
        }
    }

    private void Commit(IConsumer<byte[]?, byte[]?> consumer)
    {
        var offsets = _pending.Values.ToList();
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            // Brokers away, coordinator moving, rebalance under way: the records are processed and
            // their incidents acknowledged, so keep the offsets and commit them with the next batch.
            Log.CommitDeferred(_logger, offsets.Count, ex.Error.Reason);
            return;
        }

        _metrics.Committed();
        foreach (var o in offsets)
        {
            _metrics.CommittedOffset(o.Topic, o.Partition.Value, o.Offset.Value);
        }

        Log.Committed(_logger, offsets.Count, _batchRecords);
        _pending.Clear();
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

    private void Produce(string topic, Message<byte[]?, byte[]?> message) => Produce(new TopicPartition(topic, Partition.Any), message);

    private void Produce(TopicPartition topic, Message<byte[]?, byte[]?> message)
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

/// <summary>Where <see cref="StreamWorker.CrashHook"/> is asked whether to crash.</summary>
internal enum CrashPoint
{
    /// <summary>The batch's incidents are acknowledged by Kafka; state not saved, offsets not committed.</summary>
    AfterFlush = 0,

    /// <summary>The state is saved with its offsets; the offsets are not committed.</summary>
    AfterCheckpoint = 1,
}

/// <summary>Thrown by the crash seam to leave the loop the way a killed process would.</summary>
internal sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException()
        : base("Simulated crash (test seam).")
    {
    }

    public SimulatedCrashException(string message)
        : base(message)
    {
    }

    public SimulatedCrashException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
