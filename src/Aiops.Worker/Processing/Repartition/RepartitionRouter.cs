using Aiops.Core;
using Aiops.Pipeline;
using Aiops.Pipeline.Repartition;
using Aiops.Worker.Options;
using Confluent.Kafka;

namespace Aiops.Worker.Processing.Repartition;

/// <summary>
/// <c>Repartition:Enabled</c>: the stages of the repartitioned pipeline on one worker instance.
/// Each assigned input partition gets an <see cref="IngestStage"/>, each assigned partition of the
/// RED topic a <see cref="MergeStage"/>, and the instance holding the verdicts topic's one
/// partition the <see cref="CorrelationStage"/>; what a stage writes is buffered and produced at the
/// close of the consumer's batch, before the producer is flushed and the input offsets that made it
/// are committed (the at-least-once rule of the incidents).
/// </summary>
/// <remarks>
/// <para>RED topic records are produced to the partition of their service (FNV-1a, see
/// <see cref="StageSources.PartitionOf"/>) with the service as key; watermarks to every partition.
/// One Kafka message per stage, partition and batch (a <see cref="StageRecordCodec"/> batch).</para>
/// <para>Idle input partitions: a partition that gave no record in the batch and whose position is
/// at its high watermark advances to the largest watermark this instance knows (its own stages' and
/// those read from the internal topics), so the per-service stages, which close on the minimum of
/// all sources, do not wait for it. Records that arrive on it later than that are counted late.</para>
/// <para>State: with <c>Checkpoint:Enabled</c> each detection stage's baselines and episode gates
/// are saved per partition by <see cref="StageCheckpoints"/> with the ingest and merge stages' open
/// state (open buckets, pending spans and shares), and the correlation stage (held verdicts, graph,
/// open incidents) under the verdicts partition; all are loaded on assignment (<see cref="Restore"/>).</para>
/// </remarks>
internal sealed class RepartitionRouter : ITelemetryProcessor
{
    /// <summary>Largest internal message value: 900,000 bytes, under the brokers' 1,000,000-byte default <c>message.max.bytes</c> with room for the key and headers.</summary>
    private const int MaxMessageBytes = 900_000;

    private readonly RepartitionOptions _options;
    private readonly KafkaOptions _kafka;
    private readonly Func<PipelineOptions> _pipelineOptions;
    private readonly Dictionary<TopicPartition, Ingest> _ingest = [];
    private readonly Dictionary<int, Merge> _merge = [];
    private readonly List<(TopicPartition Partition, List<StageRecord> Records)> _outbox = [];
    private readonly int _inputSources;
    private CorrelationStage? _correlation;
    private long _knownWatermarkMs = long.MinValue;

    public RepartitionRouter(RepartitionOptions options, KafkaOptions kafka, Func<PipelineOptions> pipelineOptions, int spansPartitions, int metricsPartitions)
    {
        _options = options;
        _kafka = kafka;
        _pipelineOptions = pipelineOptions;
        _inputSources = spansPartitions + metricsPartitions;
    }

    /// <summary>The topics the consumer subscribes to besides the input topics.</summary>
    public string[] InternalTopics => [_options.RedTopic, _options.VerdictsTopic];

    /// <summary>Stage C, when this instance holds the verdicts partition.</summary>
    public CorrelationStage? Correlation => _correlation;

    /// <summary>The verdicts topic's one partition (stage C's input and checkpoint name).</summary>
    public TopicPartition VerdictsPartition => new(_options.VerdictsTopic, 0);

    /// <summary>Internal batches produced so far.</summary>
    public long BatchesProduced { get; private set; }

    public long SeriesCount => Sum(static d => d.Detectors.Count);

    public long EvictedSeries => Sum(static d => d.Detectors.EvictedSeries);

    public long AnomalyCount => Sum(static d => d.Anomalies);

    /// <summary>True for a record of an internal topic (handled by <see cref="HandleInternal"/>).</summary>
    public bool IsInternal(string topic) =>
        string.Equals(topic, _options.RedTopic, StringComparison.Ordinal) || string.Equals(topic, _options.VerdictsTopic, StringComparison.Ordinal);

    /// <summary>Creates the stages of newly assigned partitions.</summary>
    public void Assign(IEnumerable<TopicPartition> partitions)
    {
        foreach (var p in partitions)
        {
            if (string.Equals(p.Topic, _options.RedTopic, StringComparison.Ordinal))
            {
                if (!_merge.ContainsKey(p.Partition.Value))
                {
                    var writer = new Writer(this, new TopicPartition(_options.VerdictsTopic, 0));
                    var options = _pipelineOptions();
                    var detection = new DetectionStage(options, writer, StageSources.Merge(p.Partition.Value));
                    _merge[p.Partition.Value] = new Merge(new MergeStage(options, StageSources.Merge(p.Partition.Value), _inputSources, detection, writer), detection);
                }
            }
            else if (string.Equals(p.Topic, _options.VerdictsTopic, StringComparison.Ordinal))
            {
                _correlation ??= new CorrelationStage(_pipelineOptions(), _options.RedPartitions);
            }
            else if (!_ingest.ContainsKey(p))
            {
                int topic = string.Equals(p.Topic, _kafka.SpansTopic, StringComparison.Ordinal) ? 0 : 1;
                int source = StageSources.Ingest(topic, p.Partition.Value);
                var writer = new Writer(this, null);
                var options = _pipelineOptions();
                var detection = new DetectionStage(options, writer, source);
                _ingest[p] = new Ingest(new IngestStage(options, source, detection, writer), detection);
            }
        }
    }

    /// <summary>
    /// Loads the saved baselines and gates of newly assigned input and RED partitions, and the
    /// correlation stage of the verdicts partition (after <see cref="Assign"/>), and puts the offset
    /// each covers into <paramref name="resumeAt"/>, where the partition is then read from.
    /// </summary>
    /// <returns>True when the correlation stage was loaded: <paramref name="incidentMarks"/> then says how far the incidents topic was written at its save.</returns>
    public bool Restore(IEnumerable<TopicPartition> partitions, StageCheckpoints checkpoints, Dictionary<TopicPartition, long> resumeAt, CheckpointPositions incidentMarks)
    {
        var correlationLoaded = false;
        foreach (var p in partitions)
        {
            if (DetectionOf(p) is { } detection)
            {
                if (checkpoints.Load(p, detection, StateOf(p)) is { } next)
                {
                    resumeAt[p] = next;
                }
                else
                {
                    // None saved, or unreadable (perhaps after loading part of it): start the stages afresh.
                    Revoke([p]);
                    Assign([p]);
                }
            }
            else if (p == VerdictsPartition && _correlation is not null && checkpoints.LoadCorrelation(p, _correlation, incidentMarks) is { } covered)
            {
                resumeAt[p] = covered;
                correlationLoaded = true;
            }
        }

        return correlationLoaded;
    }

    /// <summary>Fills <paramref name="into"/> with every held partition that has a detection stage (input and RED partitions).</summary>
    public void DetectionStages(List<(TopicPartition Partition, DetectionStage Detection)> into)
    {
        foreach (var (partition, ingest) in _ingest)
        {
            into.Add((partition, ingest.Detection));
        }

        foreach (var (partition, merge) in _merge)
        {
            into.Add((new TopicPartition(_options.RedTopic, partition), merge.Detection));
        }
    }

    /// <summary>The open state (ingest or merge stage) of a held input or RED partition; null for the verdicts partition or one not held.</summary>
    public IStageState? StateOf(TopicPartition partition) =>
        string.Equals(partition.Topic, _options.RedTopic, StringComparison.Ordinal)
            ? (_merge.TryGetValue(partition.Partition.Value, out var merge) ? merge.Stage : null)
            : _ingest.TryGetValue(partition, out var ingest) ? ingest.Stage : null;

    /// <summary>The detection stage of a held input or RED partition; null for the verdicts partition or one not held.</summary>
    public DetectionStage? DetectionOf(TopicPartition partition) =>
        string.Equals(partition.Topic, _options.RedTopic, StringComparison.Ordinal)
            ? (_merge.TryGetValue(partition.Partition.Value, out var merge) ? merge.Detection : null)
            : _ingest.TryGetValue(partition, out var ingest) ? ingest.Detection : null;

    /// <summary>Drops the stages of revoked or lost partitions (their records are re-read by the new owner).</summary>
    public void Revoke(IEnumerable<TopicPartition> partitions)
    {
        foreach (var p in partitions)
        {
            if (string.Equals(p.Topic, _options.RedTopic, StringComparison.Ordinal))
            {
                _merge.Remove(p.Partition.Value);
            }
            else if (string.Equals(p.Topic, _options.VerdictsTopic, StringComparison.Ordinal))
            {
                _correlation = null;
            }
            else
            {
                _ingest.Remove(p);
            }
        }
    }

    /// <summary>The ingest stage of an input partition, as the processor its decoded records go to.</summary>
    public ITelemetryProcessor IngestFor(TopicPartition partition)
    {
        if (!_ingest.TryGetValue(partition, out var ingest))
        {
            Assign([partition]);
            ingest = _ingest[partition];
        }

        ingest.SawRecord = true;
        return ingest;
    }

    /// <summary>Decodes and applies one record of an internal topic; false (with the reason) when it is not a batch this build reads.</summary>
    public bool HandleInternal(ConsumeResult<byte[]?, byte[]?> result, out string? reason)
    {
        reason = null;
        List<StageRecord> records;
        try
        {
            records = StageRecordCodec.Decode(result.Message.Value);
        }
        catch (InvalidDataException e)
        {
            reason = e.Message;
            return false;
        }

        IStageSink? target = string.Equals(result.Topic, _options.RedTopic, StringComparison.Ordinal)
            ? (_merge.TryGetValue(result.Partition.Value, out var merge) ? merge.Stage : null)
            : _correlation;
        if (target is null)
        {
            Assign([result.TopicPartition]);
            target = string.Equals(result.Topic, _options.RedTopic, StringComparison.Ordinal) ? _merge[result.Partition.Value].Stage : _correlation!;
        }

        foreach (var record in records)
        {
            if (record is WatermarkRecord mark && mark.TimeMs > _knownWatermarkMs)
            {
                _knownWatermarkMs = mark.TimeMs;
            }

            target.Write(record);
        }

        return true;
    }

    /// <summary>
    /// At the close of a batch: idle input partitions advance (see the remarks), then every
    /// buffered internal batch is produced through <paramref name="produce"/> (the caller flushes
    /// before committing).
    /// </summary>
    public void CloseBatch(Func<TopicPartition, bool> caughtUp, Action<TopicPartition, Message<byte[]?, byte[]?>> produce)
    {
        foreach (var ingest in _ingest.Values)
        {
            _knownWatermarkMs = Math.Max(_knownWatermarkMs, ingest.Stage.WatermarkMs);
        }

        foreach (var (partition, ingest) in _ingest)
        {
            if (!ingest.SawRecord && _knownWatermarkMs != long.MinValue && caughtUp(partition))
            {
                ingest.Stage.AdvanceTo(_knownWatermarkMs);
            }

            ingest.SawRecord = false;
        }

        foreach (var (partition, records) in _outbox)
        {
            if (records.Count == 0)
            {
                continue;
            }

            var key = records[0].RouteKey is { } service ? System.Text.Encoding.UTF8.GetBytes(service) : null;
            Encode(records, MaxMessageBytes, value =>
            {
                produce(partition, new Message<byte[]?, byte[]?> { Key = key, Value = value });
                BatchesProduced++;
            });
            records.Clear();
        }
    }

    /// <summary>
    /// Encodes <paramref name="records"/> as one message value, or, when that is over
    /// <paramref name="maxBytes"/>, as the two halves (recursively), in order: a batch of a busy
    /// partition can exceed the brokers' 1,000,000-byte default <c>message.max.bytes</c>, which
    /// fails the producer and stops the worker. A single record over the limit goes alone.
    /// </summary>
    internal static void Encode(List<StageRecord> records, int maxBytes, Action<byte[]> emit)
    {
        var value = StageRecordCodec.Encode(records);
        if (value.Length > maxBytes && records.Count > 1)
        {
            int half = records.Count / 2;
            Encode(records.GetRange(0, half), maxBytes, emit);
            Encode(records.GetRange(half, records.Count - half), maxBytes, emit);
            return;
        }

        emit(value);
    }

    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans) =>
        throw new InvalidOperationException("With Repartition:Enabled records go to their partition's ingest stage (IngestFor).");

    public void DrainIncidents(List<IncidentMessage> into)
    {
        if (_correlation is null)
        {
            return;
        }

        foreach (var e in _correlation.TakeEvents())
        {
            into.Add(PipelineProcessor.ToMessage(e));
        }
    }

    public void SaveState(Stream destination) =>
        throw new NotSupportedException("The repartitioned stages are not checkpointed yet.");

    public void RestoreState(Stream source) =>
        throw new NotSupportedException("The repartitioned stages are not checkpointed yet.");

    /// <summary>A total over every detection stage of this instance (for the self-metrics, once per batch).</summary>
    private long Sum(Func<DetectionStage, long> of)
    {
        long n = 0;
        foreach (var i in _ingest.Values)
        {
            n += of(i.Detection);
        }

        foreach (var m in _merge.Values)
        {
            n += of(m.Detection);
        }

        return n;
    }

    private List<StageRecord> Buffer(TopicPartition partition)
    {
        foreach (var (p, records) in _outbox)
        {
            if (p == partition)
            {
                return records;
            }
        }

        var created = new List<StageRecord>();
        _outbox.Add((partition, created));
        return created;
    }

    /// <summary>A stage's producer side: to one fixed partition (verdicts) or to the RED partition of each record's service.</summary>
    private sealed class Writer(RepartitionRouter owner, TopicPartition? fixedPartition) : IStageSink
    {
        public void Write(StageRecord record)
        {
            if (fixedPartition is { } only)
            {
                owner.Buffer(only).Add(record);
                return;
            }

            int partitions = owner._options.RedPartitions;
            if (record.RouteKey is { } service)
            {
                owner.Buffer(new TopicPartition(owner._options.RedTopic, StageSources.PartitionOf(service, partitions))).Add(record);
                return;
            }

            for (int p = 0; p < partitions; p++)
            {
                owner.Buffer(new TopicPartition(owner._options.RedTopic, p)).Add(record);
            }
        }
    }

    private sealed class Ingest(IngestStage stage, DetectionStage detection) : ITelemetryProcessor
    {
        public IngestStage Stage => stage;

        public DetectionStage Detection => detection;

        public bool SawRecord { get; set; }

        public long SeriesCount => detection.Detectors.Count;

        public long EvictedSeries => detection.Detectors.EvictedSeries;

        public long AnomalyCount => detection.Anomalies;

        public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans, IReadOnlyList<Aiops.Ingestion.MetricExemplar> exemplars)
        {
            for (var i = 0; i < exemplars.Count; i++)
            {
                var e = exemplars[i];
                stage.AddExemplar(e.Series, e.TimestampMs, e.TraceId);
            }

            Process(points, spans);
        }

        public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans)
        {
            for (var i = 0; i < spans.Count; i++)
            {
                stage.AddSpan(spans[i]);
            }

            for (var i = 0; i < points.Count; i++)
            {
                stage.AddMetric(points[i]);
            }
        }

        public void DrainIncidents(List<IncidentMessage> into)
        {
        }

        public void SaveState(Stream destination) => throw new NotSupportedException("The repartitioned stages are not checkpointed yet.");

        public void RestoreState(Stream source) => throw new NotSupportedException("The repartitioned stages are not checkpointed yet.");
    }

    private sealed record Merge(MergeStage Stage, DetectionStage Detection);
}
