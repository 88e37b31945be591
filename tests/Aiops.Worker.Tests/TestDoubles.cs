using System.Globalization;
using System.Text;
using Aiops.Core;
using Aiops.Ingestion;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;

namespace Aiops.Worker.Tests;

/// <summary>
/// A decoder for the plumbing tests: one UTF-8 line <c>service,metric,ts,value</c> per record.
/// Anything else fails with kind <c>MalformedJson</c>, the way a real decoder reports a bad record.
/// </summary>
internal sealed class CsvLineDecoder : ITelemetryDecoder
{
    public void Decode(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        var parts = Encoding.UTF8.GetString(payload).Split(',');
        if (parts.Length != 4
            || !long.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ts)
            || !double.TryParse(parts[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MalformedJson, "expected service,metric,ts,value"));
            return;
        }

        batch.Metrics.Add(new MetricPoint(new SeriesKey(parts[0], parts[1]), MetricKind.Generic, ts, value));
    }
}

/// <summary>
/// A processor for the plumbing tests: remembers every point and opens one incident per point at or
/// above <see cref="Threshold"/>, with the id <c>inc-{ts}</c>. Its state (points seen, ids opened)
/// is what it checkpoints, so a restarted worker shows whether the state came back.
/// </summary>
internal sealed class RecordingProcessor : ITelemetryProcessor
{
    public const double Threshold = 1000;

    /// <summary>A value that makes <see cref="Process"/> throw (a processor bug triggered by one record).</summary>
    public const double PoisonValue = -7777;

    private readonly Lock _gate = new();
    private readonly List<MetricPoint> _seen = [];
    private readonly List<IncidentMessage> _pending = [];
    private readonly HashSet<string> _opened = new(StringComparer.Ordinal);
    private long _restoredCount;

    public long SeriesCount => 1;

    public long EvictedSeries => 0;

    public long AnomalyCount
    {
        get
        {
            lock (_gate)
            {
                return _opened.Count;
            }
        }
    }

    /// <summary>Points processed by this instance plus those counted in a restored checkpoint.</summary>
    public long TotalPoints
    {
        get
        {
            lock (_gate)
            {
                return _restoredCount + _seen.Count;
            }
        }
    }

    public long RestoredCount
    {
        get
        {
            lock (_gate)
            {
                return _restoredCount;
            }
        }
    }

    public IReadOnlyList<MetricPoint> Seen
    {
        get
        {
            lock (_gate)
            {
                return [.. _seen];
            }
        }
    }

    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans)
    {
        lock (_gate)
        {
            foreach (var p in points)
            {
                if (p.Value == PoisonValue)
                {
                    throw new InvalidOperationException("poison value");
                }

                _seen.Add(p);
                var id = "inc-" + p.TimestampMs.ToString(CultureInfo.InvariantCulture);
                if (p.Value >= Threshold && _opened.Add(id))
                {
                    _pending.Add(new IncidentMessage
                    {
                        IncidentId = id,
                        Event = "open",
                        EventTimeMs = p.TimestampMs,
                        OpenedAtMs = p.TimestampMs,
                        Symptom = $"{p.Series} at {p.Value}",
                        Services = [p.Series.Service],
                        RootCauses = [new RootCauseMessage { Rank = 1, Service = p.Series.Service, Score = 1 }],
                    });
                }
            }
        }
    }

    public void DrainIncidents(List<IncidentMessage> into)
    {
        lock (_gate)
        {
            into.AddRange(_pending);
            _pending.Clear();
        }
    }

    public void SaveState(Stream destination)
    {
        lock (_gate)
        {
            using var writer = new BinaryWriter(destination, Encoding.UTF8, leaveOpen: true);
            writer.Write(_restoredCount + _seen.Count);
            writer.Write(_opened.Count);
            foreach (var id in _opened)
            {
                writer.Write(id);
            }
        }
    }

    public void RestoreState(Stream source)
    {
        lock (_gate)
        {
            using var reader = new BinaryReader(source, Encoding.UTF8, leaveOpen: true);
            _restoredCount = reader.ReadInt64();
            _seen.Clear();
            _opened.Clear();
            var n = reader.ReadInt32();
            for (var i = 0; i < n; i++)
            {
                _opened.Add(reader.ReadString());
            }
        }
    }
}
