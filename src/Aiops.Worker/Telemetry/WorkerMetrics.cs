using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Aiops.Worker.Telemetry;

/// <summary>
/// The worker's own counters, updated by the consume loop (one thread) and read by the metrics
/// endpoint (another): plain <see cref="Interlocked"/> longs, no locks on the hot path. Rendered in
/// the Prometheus text exposition format 0.0.4.
/// </summary>
internal sealed class WorkerMetrics
{
    /// <summary>
    /// Upper bounds (seconds) of the batch processing-time histogram: 1 ms to 10 s in roughly
    /// ×2.5 steps, so both a 5,000-record batch (~50 ms at target speed) and a stalled flush land
    /// in a bucket of their own.
    /// </summary>
    internal static readonly double[] BatchSecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly long[] _bucketCounts = new long[BatchSecondsBuckets.Length];
    private readonly ConcurrentDictionary<string, long> _deadLettersByKind = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _committedOffsets = new();
    private long _assignedPartitions;
    private long _metricRecords;
    private long _spanRecords;
    private long _points;
    private long _spans;
    private long _series;
    private long _seriesEvicted;
    private long _seriesLimit;
    private long _anomalies;
    private long _incidentEvents;
    private long _deadLetters;
    private long _lag;
    private long _commits;
    private long _checkpoints;
    private long _batchCount;
    private long _batchMicrosTotal;

    /// <summary>Records read from the metrics topic.</summary>
    public long MetricRecords => Interlocked.Read(ref _metricRecords);

    /// <summary>Records read from the spans topic.</summary>
    public long SpanRecords => Interlocked.Read(ref _spanRecords);

    /// <summary>All records read.</summary>
    public long Records => MetricRecords + SpanRecords;

    /// <summary>Metric points decoded.</summary>
    public long Points => Interlocked.Read(ref _points);

    /// <summary>Spans decoded.</summary>
    public long Spans => Interlocked.Read(ref _spans);

    /// <summary>Incident events produced.</summary>
    public long IncidentEvents => Interlocked.Read(ref _incidentEvents);

    /// <summary>Records sent to the dead-letter topic.</summary>
    public long DeadLetters => Interlocked.Read(ref _deadLetters);

    /// <summary>Offset commits done.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Counts one record read from a topic.</summary>
    public void RecordRead(bool isSpans)
    {
        if (isSpans)
        {
            Interlocked.Increment(ref _spanRecords);
        }
        else
        {
            Interlocked.Increment(ref _metricRecords);
        }
    }

    /// <summary>Counts decoded items.</summary>
    public void Decoded(int points, int spans)
    {
        Interlocked.Add(ref _points, points);
        Interlocked.Add(ref _spans, spans);
    }

    /// <summary>Counts one dead letter of a kind (kinds are a small fixed set of words from the decoder).</summary>
    public void DeadLetter(string kind)
    {
        Interlocked.Increment(ref _deadLetters);
        _deadLettersByKind.AddOrUpdate(kind, 1, static (_, n) => n + 1);
    }

    /// <summary>Counts produced incident events.</summary>
    public void IncidentsProduced(int count) => Interlocked.Add(ref _incidentEvents, count);

    /// <summary>Sets the gauges read from the processor and the consumer.</summary>
    public void SetState(long series, long seriesEvicted, long anomalies, long lag)
    {
        Interlocked.Exchange(ref _series, series);
        Interlocked.Exchange(ref _seriesEvicted, seriesEvicted);
        Interlocked.Exchange(ref _anomalies, anomalies);
        Interlocked.Exchange(ref _lag, lag);
    }

    /// <summary>Series dropped, least recently seen first, to stay under the series cap.</summary>
    public long SeriesEvicted => Interlocked.Read(ref _seriesEvicted);

    /// <summary>Series currently with detector state.</summary>
    public long Series => Interlocked.Read(ref _series);

    /// <summary>Sets the configured series cap (<c>Limits:MaxSeries</c>), exposed beside the series gauge.</summary>
    public void SetSeriesLimit(long limit) => Interlocked.Exchange(ref _seriesLimit, limit);

    /// <summary>Counts one commit.</summary>
    public void Committed() => Interlocked.Increment(ref _commits);

    /// <summary>
    /// Remembers the next offset committed for one partition, so a caller that knows what was
    /// produced (the demo, the end-to-end test) can wait until exactly that much has been
    /// processed, incidents flushed and committed, instead of guessing from an idle timer.
    /// </summary>
    public void CommittedOffset(string topic, int partition, long nextOffset) =>
        _committedOffsets.AddOrUpdate((topic, partition), nextOffset, (_, old) => Math.Max(old, nextOffset));

    /// <summary>The next offset committed for a partition; 0 when nothing was committed there yet.</summary>
    public long CommittedOffsetOf(string topic, int partition) =>
        _committedOffsets.TryGetValue((topic, partition), out var offset) ? offset : 0;

    /// <summary>Partitions currently assigned to the consumer: the demo produces only once the worker is consuming.</summary>
    public long AssignedPartitions => Interlocked.Read(ref _assignedPartitions);

    /// <summary>Adds (or, negative, removes) assigned partitions.</summary>
    public void PartitionsAssigned(int delta) => Interlocked.Add(ref _assignedPartitions, delta);

    /// <summary>Counts one checkpoint.</summary>
    public void Checkpointed() => Interlocked.Increment(ref _checkpoints);

    /// <summary>Observes how long one batch (decode, process, produce, flush, commit) took.</summary>
    public void ObserveBatch(TimeSpan elapsed)
    {
        var seconds = elapsed.TotalSeconds;
        for (var i = 0; i < BatchSecondsBuckets.Length; i++)
        {
            if (seconds <= BatchSecondsBuckets[i])
            {
                Interlocked.Increment(ref _bucketCounts[i]);
                break;
            }
        }

        Interlocked.Increment(ref _batchCount);
        Interlocked.Add(ref _batchMicrosTotal, (long)(elapsed.Ticks / 10));
    }

    /// <summary>Writes every metric in the Prometheus text exposition format (version 0.0.4).</summary>
    public void WritePrometheus(StringBuilder text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Counter(text, "aiops_records_total", "Kafka records read, by input signal.", ("signal", "metrics", MetricRecords), ("signal", "spans", SpanRecords));
        Counter(text, "aiops_points_total", "Metric data points decoded.", Points);
        Counter(text, "aiops_spans_total", "Spans decoded.", Spans);
        Gauge(text, "aiops_series", "Series with detector state.", Interlocked.Read(ref _series));
        Gauge(text, "aiops_series_limit", "Most series with detector state (Limits:MaxSeries).", Interlocked.Read(ref _seriesLimit));
        Counter(text, "aiops_series_evicted_total", "Series dropped with their state, least recently seen first, to stay under aiops_series_limit.", SeriesEvicted);
        Counter(text, "aiops_anomalies_total", "Anomaly verdicts emitted by the detectors.", Interlocked.Read(ref _anomalies));
        Counter(text, "aiops_incident_events_total", "Incident events (open, update, resolve) produced.", IncidentEvents);

        Header(text, "aiops_dead_letters_total", "Records sent to the dead-letter topic, by reason kind.", "counter");
        if (_deadLettersByKind.IsEmpty)
        {
            text.Append("aiops_dead_letters_total 0\n");
        }
        else
        {
            foreach (var pair in _deadLettersByKind.OrderBy(static p => p.Key, StringComparer.Ordinal))
            {
                text.Append("aiops_dead_letters_total{kind=\"").Append(EscapeLabel(pair.Key))
                    .Append("\"} ").Append(pair.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        Gauge(text, "aiops_consumer_lag", "Records behind the high watermark, summed over assigned partitions.", Interlocked.Read(ref _lag));
        Counter(text, "aiops_commits_total", "Offset commits.", Commits);
        Counter(text, "aiops_checkpoints_total", "Detector state checkpoints written.", Interlocked.Read(ref _checkpoints));

        Header(text, "aiops_batch_processing_seconds", "Wall time of one batch: decode, detect, produce, flush, commit.", "histogram");
        long cumulative = 0;
        for (var i = 0; i < BatchSecondsBuckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _bucketCounts[i]);
            text.Append("aiops_batch_processing_seconds_bucket{le=\"").Append(BatchSecondsBuckets[i].ToString("R", CultureInfo.InvariantCulture))
                .Append("\"} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        var count = Interlocked.Read(ref _batchCount);
        text.Append("aiops_batch_processing_seconds_bucket{le=\"+Inf\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("aiops_batch_processing_seconds_sum ").Append((Interlocked.Read(ref _batchMicrosTotal) / 1e6).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        text.Append("aiops_batch_processing_seconds_count ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Escapes a label value as the exposition format requires (backslash, quote, newline).</summary>
    internal static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static void Header(StringBuilder text, string name, string help, string type) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Counter(StringBuilder text, string name, string help, long value)
    {
        Header(text, name, help, "counter");
        text.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private static void Counter(StringBuilder text, string name, string help, params (string Label, string Value, long Count)[] series)
    {
        Header(text, name, help, "counter");
        foreach (var (label, value, count) in series)
        {
            text.Append(name).Append('{').Append(label).Append("=\"").Append(EscapeLabel(value)).Append("\"} ")
                .Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static void Gauge(StringBuilder text, string name, string help, long value)
    {
        Header(text, name, help, "gauge");
        text.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }
}
