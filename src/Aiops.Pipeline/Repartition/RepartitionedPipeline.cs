using Aiops.Core;

namespace Aiops.Pipeline.Repartition;

/// <summary>
/// The repartitioned pipeline in one process: <c>ingestPartitions</c> ingest stages (input
/// partitions), <c>redPartitions</c> per-service stages (partitions of the RED topic, keyed by
/// service) and one correlation stage, every hop through <see cref="StageRecordCodec"/> bytes as on
/// the internal Kafka topics. For tests and for sizing the internal traffic; the worker runs the
/// same stages with Kafka in between.
/// </summary>
/// <remarks>
/// Each stage buffers what it writes and hands it on, encoded as one batch per downstream
/// partition, when it writes a watermark: the order the Kafka producer keeps per partition, so a
/// watermark always follows the records it covers.
/// </remarks>
public sealed class RepartitionedPipeline
{
    private readonly PipelineOptions _options;
    private readonly IngestStage[] _ingest;
    private readonly DetectionStage[] _ingestDetection;
    private readonly MergeStage[] _merge;
    private readonly DetectionStage[] _mergeDetection;
    private readonly CorrelationStage _correlation;
    private long _bytes;
    private long _batches;

    /// <summary>Creates the stages; throws <see cref="ArgumentOutOfRangeException"/> for fewer than one partition.</summary>
    public RepartitionedPipeline(PipelineOptions options, int ingestPartitions, int redPartitions)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(ingestPartitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(redPartitions, 1);
        _options = options;
        _options.Validate();
        _correlation = new CorrelationStage(options, redPartitions);
        var toCorrelation = new Topic(this, [_correlation], static _ => 0);
        _merge = new MergeStage[redPartitions];
        _mergeDetection = new DetectionStage[redPartitions];
        for (int p = 0; p < redPartitions; p++)
        {
            var output = new TopicWriter(toCorrelation);
            _mergeDetection[p] = new DetectionStage(options, output, StageSources.Merge(p));
            _merge[p] = new MergeStage(options, StageSources.Merge(p), ingestPartitions, _mergeDetection[p], output);
        }

        var toMerge = new Topic(this, _merge, key => StageSources.PartitionOf(key, redPartitions));
        _ingest = new IngestStage[ingestPartitions];
        _ingestDetection = new DetectionStage[ingestPartitions];
        for (int p = 0; p < ingestPartitions; p++)
        {
            var output = new TopicWriter(toMerge);
            _ingestDetection[p] = new DetectionStage(options, output, StageSources.Ingest(0, p));
            _ingest[p] = new IngestStage(options, StageSources.Ingest(0, p), _ingestDetection[p], output);
        }
    }

    /// <summary>Bytes encoded onto the internal topics so far.</summary>
    public long InternalBytes => _bytes;

    /// <summary>Batches (Kafka messages) encoded so far.</summary>
    public long InternalBatches => _batches;

    /// <summary>The correlation stage (graph, incidents).</summary>
    public CorrelationStage Correlation => _correlation;

    /// <summary>
    /// Diagnostic callback on every detection stage (see <see cref="EventTimePipeline.Trace"/>):
    /// the verdicts each forwards, e.g. to compare them with one pipeline's. Null by default.
    /// </summary>
    public Action<PipelineTrace>? Trace
    {
        set
        {
            foreach (var detection in _ingestDetection)
            {
                detection.Trace = value;
            }

            foreach (var detection in _mergeDetection)
            {
                detection.Trace = value;
            }
        }
    }

    /// <summary>Feeds one span to input partition <paramref name="partition"/>.</summary>
    public bool AddSpan(int partition, in SpanRecord span) => _ingest[partition].AddSpan(span);

    /// <summary>Feeds one resource point to input partition <paramref name="partition"/>.</summary>
    public bool AddMetric(int partition, in MetricPoint point) => _ingest[partition].AddMetric(point);

    /// <summary>Moves every input partition's watermark to at least <paramref name="eventTimeMs"/> (idle partitions too).</summary>
    public void AdvanceTo(long eventTimeMs)
    {
        foreach (var stage in _ingest)
        {
            stage.AdvanceTo(eventTimeMs);
        }
    }

    /// <summary>End of input: as <see cref="EventTimePipeline.Flush"/>, from the largest watermark of any partition.</summary>
    public void Flush()
    {
        long max = long.MinValue;
        foreach (var stage in _ingest)
        {
            max = Math.Max(max, stage.WatermarkMs);
        }

        if (max != long.MinValue)
        {
            AdvanceTo(max + _options.BucketMs + _options.AllowedLatenessMs + _options.Correlator.OpenDelayMs);
        }
    }

    /// <summary>Incident events since the last call, oldest first.</summary>
    public IReadOnlyList<IncidentEvent> TakeEvents() => _correlation.TakeEvents();

    /// <summary>A topic of the pipeline: its partitions' consumers and the partitioner.</summary>
    private sealed class Topic(RepartitionedPipeline owner, IReadOnlyList<IStageSink> partitions, Func<string, int> partitionOf)
    {
        public int Partitions => partitions.Count;

        public int PartitionOf(string key) => partitionOf(key);

        public void Deliver(int partition, List<StageRecord> batch)
        {
            var bytes = StageRecordCodec.Encode(batch);
            owner._bytes += bytes.Length;
            owner._batches++;
            foreach (var record in StageRecordCodec.Decode(bytes))
            {
                partitions[partition].Write(record);
            }
        }
    }

    /// <summary>One stage's producer: records buffered per partition, a watermark to every partition, then the batches delivered.</summary>
    private sealed class TopicWriter : IStageSink
    {
        private readonly Topic _topic;
        private readonly List<StageRecord>[] _buffers;

        public TopicWriter(Topic topic)
        {
            _topic = topic;
            _buffers = new List<StageRecord>[topic.Partitions];
            for (int i = 0; i < _buffers.Length; i++)
            {
                _buffers[i] = [];
            }
        }

        public void Write(StageRecord record)
        {
            if (record.RouteKey is { } key)
            {
                _buffers[_topic.PartitionOf(key)].Add(record);
                return;
            }

            for (int p = 0; p < _buffers.Length; p++)
            {
                var batch = _buffers[p];
                batch.Add(record);
                _topic.Deliver(p, batch);
                batch.Clear();
            }
        }
    }
}
