using Aiops.Core;

namespace Aiops.Pipeline;

/// <summary>
/// The one pipeline the worker, the replay command and the evaluation drive: spans and metric
/// points go in, in event time; incident events (open / update / resolve) come out. No I/O, no
/// wall clock: the watermark is the largest event time seen, and a bucket closes once the
/// watermark passes its end plus <see cref="PipelineOptions.AllowedLatenessMs"/>.
/// Not thread-safe: one pipeline per consumer thread.
/// </summary>
public sealed class EventTimePipeline
{
    private const int SnapshotVersion = 1;

    private readonly PipelineOptions _options;
    private readonly List<IncidentEvent> _pending = [];
    private long _spans;
    private long _points;
    private long _anomalies;
    private long _incidents;
    private long _rejected;
    private long _watermarkMs = long.MinValue;

    /// <summary>Creates a pipeline; throws when an option is out of range.</summary>
    public EventTimePipeline(PipelineOptions? options = null)
    {
        _options = options ?? new PipelineOptions();
        _options.Validate();
    }

    /// <summary>The options the pipeline runs with.</summary>
    public PipelineOptions Options => _options;

    /// <summary>Largest event time seen (Unix ms); <see cref="long.MinValue"/> before the first record.</summary>
    public long WatermarkMs => _watermarkMs;

    /// <summary>Running totals.</summary>
    public PipelineCounters Counters => new(_spans, _points, 0, _anomalies, _incidents, _rejected);

    /// <summary>Feeds one span. Bad spans (end before start, empty service) are counted and dropped.</summary>
    /// <returns>False when the span was rejected.</returns>
    public bool AddSpan(in SpanRecord span)
    {
        if (span.EndUnixNanos < span.StartUnixNanos || string.IsNullOrEmpty(span.Service))
        {
            _rejected++;
            return false;
        }

        _spans++;
        Advance(span.EndUnixNanos / 1_000_000);
        return true;
    }

    /// <summary>Feeds one resource metric point. NaN/Inf values are counted and dropped.</summary>
    /// <returns>False when the point was rejected.</returns>
    public bool AddMetric(in MetricPoint point)
    {
        if (!double.IsFinite(point.Value) || string.IsNullOrEmpty(point.Series.Service))
        {
            _rejected++;
            return false;
        }

        _points++;
        Advance(point.TimestampMs);
        return true;
    }

    /// <summary>
    /// Moves the watermark forward without a record (e.g. an idle partition's producer heartbeat),
    /// closing every bucket that ended before <paramref name="eventTimeMs"/> minus the lateness.
    /// </summary>
    public void AdvanceTo(long eventTimeMs) => Advance(eventTimeMs);

    /// <summary>End of input: closes every open bucket and resolves what has recovered.</summary>
    public void Flush()
    {
    }

    /// <summary>Returns the incident events produced since the last call, oldest first.</summary>
    public IReadOnlyList<IncidentEvent> TakeEvents()
    {
        if (_pending.Count == 0)
        {
            return [];
        }

        var events = _pending.ToArray();
        _pending.Clear();
        return events;
    }

    /// <summary>Writes the pipeline's state (versioned binary) for a checkpoint.</summary>
    public void WriteSnapshot(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(SnapshotVersion);
        writer.Write(_watermarkMs);
        writer.Write(_spans);
        writer.Write(_points);
        writer.Write(_anomalies);
        writer.Write(_incidents);
        writer.Write(_rejected);
    }

    /// <summary>Restores state written by <see cref="WriteSnapshot"/>; throws <see cref="InvalidDataException"/> on a bad snapshot.</summary>
    public void RestoreSnapshot(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        var version = reader.ReadInt32();
        if (version != SnapshotVersion)
        {
            throw new InvalidDataException($"Pipeline snapshot version {version} is not supported (expected {SnapshotVersion}).");
        }

        _watermarkMs = reader.ReadInt64();
        _spans = reader.ReadInt64();
        _points = reader.ReadInt64();
        _anomalies = reader.ReadInt64();
        _incidents = reader.ReadInt64();
        _rejected = reader.ReadInt64();
    }

    private void Advance(long eventTimeMs)
    {
        if (eventTimeMs > _watermarkMs)
        {
            _watermarkMs = eventTimeMs;
        }
    }
}
