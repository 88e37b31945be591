using Aiops.Core;
using Aiops.Topology;

namespace Aiops.Pipeline.Repartition;

/// <summary>
/// Stage B of the repartitioned pipeline, one per partition of the RED topic (keyed by service):
/// merges the ingest partitions' shares of each RED bucket, closes a bucket once every source's
/// watermark has passed its end plus the allowed lateness, runs the RED detectors with today's
/// episode gates, runs the SLO windows of its services on the ingest partitions' summed SLO
/// counts, and forwards the verdicts (with their exemplars), the burn-rate alerts, the graph facts
/// of its services and a watermark to the correlation stage.
/// </summary>
/// <remarks>
/// <para>Idempotent: a share is held until its bucket is due, keyed by (source, series, bucket), so a
/// redelivered share from the same source replaces the earlier one and never adds to it. Shares are
/// added in a fixed order (bucket, service, scope, key, source) whatever order they arrived in, and
/// the merge itself is exact (see <see cref="RedPartial"/>), so the RED points do not depend on how
/// many input partitions there were or on which instance held them.</para>
/// <para>The watermark is the minimum of the sources' watermarks; until every expected source has
/// sent one, nothing closes (an idle input partition still sends watermarks).</para>
/// </remarks>
public sealed class MergeStage : IStageSink, IStageState
{
    private const uint StateMagic = 0x47524D41; // "AMRG"
    private const int StateVersion = 1;

    private readonly PipelineOptions _options;
    private readonly SpanAggregator _aggregator;
    private readonly DetectionStage _detection;
    private readonly IStageSink _output;
    private readonly int _source;
    private readonly long _closeAfterMs;
    private readonly SourceWatermarks _marks;
    private readonly SortedDictionary<long, Dictionary<ShareKey, RedPartial>> _pending = [];
    private readonly List<ShareKey> _dueKeys = [];
    private readonly List<MetricPoint> _points = new(4096);
    private readonly SloMonitor? _slo;
    private readonly List<Anomaly> _sloAlerts = [];
    private readonly Dictionary<(string Service, string Instance), (double P50, double ErrorRatio, long BucketMs)> _replicas = [];
    private long _watermarkMs = long.MinValue;
    private long _late;
    private long _unexpectedSloShares;

    /// <summary>
    /// Creates the stage of RED partition <paramref name="source"/>, waiting for watermarks from
    /// <paramref name="sources"/> ingest partitions; RED points are scored by
    /// <paramref name="detection"/>, whose verdicts must reach <paramref name="output"/>.
    /// </summary>
    public MergeStage(PipelineOptions options, int source, int sources, DetectionStage detection, IStageSink output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(sources, 1);
        _options = options;
        _source = source;
        _marks = new SourceWatermarks(sources);
        _detection = detection ?? throw new ArgumentNullException(nameof(detection));
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _aggregator = new SpanAggregator(options.StageTopology());
        _closeAfterMs = options.BucketMs + options.AllowedLatenessMs;
        detection.WindowBuckets = _aggregator.WindowBucketsOf;
        detection.Exemplars = _aggregator.GetExemplarTraceIds;
        if (options.Slo.Objectives.Count > 0)
        {
            _slo = new SloMonitor(options.StageSlo());
        }
    }

    /// <summary>This stage's source id (on its records to the correlation stage).</summary>
    public int Source => _source;

    /// <summary>The minimum of the sources' watermarks (Unix ms); <see cref="long.MinValue"/> until all sent one.</summary>
    public long WatermarkMs => _watermarkMs;

    /// <summary>Shares that arrived after their bucket had closed here (dropped, counted).</summary>
    public long LateShares => _late + _aggregator.Counters.Late;

    /// <summary>SLO shares dropped: late (their bucket had closed here), of an objective this stage does not have, or impossible counts.</summary>
    public long DroppedSloShares => _unexpectedSloShares + (_slo is null ? 0 : _slo.LateShares + _slo.RejectedShares);

    /// <summary>
    /// Writes the SLO part of this stage's open state: the windows, the rules' firing starts and the
    /// held SLO shares (<see cref="SloMonitor.SaveSection"/>; an empty section without SLOs).
    /// Separate from the rest of the stage's state so either can change alone; a stage checkpoint
    /// writes it after that.
    /// </summary>
    public void SaveSloState(BinaryWriter writer) => SloMonitor.SaveSection(writer, _slo);

    /// <summary>
    /// Reads what <see cref="SaveSloState"/> wrote, into a freshly built stage; a section saved
    /// under other SLO settings is skipped (see <see cref="SloMonitor.LoadSection"/>); a corrupt one
    /// throws <see cref="InvalidDataException"/>.
    /// </summary>
    public void LoadSloState(BinaryReader reader) => SloMonitor.LoadSection(reader, _slo);

    /// <summary>Shares held until their bucket is due.</summary>
    public int PendingShares
    {
        get
        {
            int n = 0;
            foreach (var bucket in _pending.Values)
            {
                n += bucket.Count;
            }

            return n;
        }
    }

    /// <summary>Takes a record of an ingest stage: a share is held, a watermark may close buckets, the rest passes on.</summary>
    public void Write(StageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        switch (record)
        {
            case PartialRecord share:
                Hold(share);
                break;
            case WatermarkRecord mark:
                OnWatermark(mark.Source, mark.TimeMs);
                break;
            case SloShareRecord slo:
                HoldSlo(slo);
                break;
            default:
                // Resource verdicts, sustains and graph facts of this partition's services: the
                // correlation stage orders them by their event time.
                _output.Write(record);
                break;
        }
    }

    /// <summary>
    /// Writes the stage's open state: its source, watermark and late count, the sources'
    /// watermarks (by source), the shares held for buckets not yet due (by bucket, then in the
    /// order they are added: service, scope, key, source), and its aggregator's state (the merged
    /// buckets, exemplars and low-traffic windows, see <see cref="SpanAggregator.SaveState"/>).
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, StateMagic, StateVersion);
        writer.Write(_source);
        writer.Write(_watermarkMs);
        writer.Write(_late);
        _marks.SaveState(writer);
        writer.Write(_pending.Count);
        var keys = new List<ShareKey>();
        foreach (var (bucket, shares) in _pending)
        {
            writer.Write(bucket);
            keys.Clear();
            keys.AddRange(shares.Keys);
            keys.Sort();
            writer.Write(keys.Count);
            foreach (var key in keys)
            {
                writer.Write(key.Source);
                shares[key].Write(writer);
            }
        }

        _aggregator.SaveState(writer);

        SaveSloState(writer);
        StateFraming.WriteEnd(writer, StateMagic);
    }

    /// <summary>
    /// Loads what <see cref="SaveState"/> wrote into this freshly constructed stage (same options,
    /// source and number of sources); throws <see cref="InvalidDataException"/> naming the section that is bad.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        StateFraming.Read(reader, StateMagic, StateVersion, "merge stage state", r =>
        {
            int source = r.ReadInt32();
            if (source != _source)
            {
                throw new InvalidDataException($"The merge stage state is of source {source}; this stage is source {_source}.");
            }

            _watermarkMs = r.ReadInt64();
            _late = r.ReadInt64();
            _marks.LoadState(r);
            int buckets = StateFraming.ReadCount(r, 1 << 24, "pending bucket");
            for (int b = 0; b < buckets; b++)
            {
                long bucket = r.ReadInt64();
                int count = StateFraming.ReadCount(r, 1 << 24, "pending share");
                var shares = new Dictionary<ShareKey, RedPartial>(count);
                for (int i = 0; i < count; i++)
                {
                    int from = r.ReadInt32();
                    var p = RedPartial.Read(r);
                    if (p.BucketStartMs != bucket)
                    {
                        throw new InvalidDataException($"A pending share of bucket {p.BucketStartMs} is saved under bucket {bucket}.");
                    }

                    shares.Add(new ShareKey(from, p.Service, p.Scope, p.ScopeKey ?? string.Empty), p);
                }

                _pending.Add(bucket, shares);
            }

            _aggregator.LoadState(r);
            LoadSloState(r);
        });
    }

    private void Hold(PartialRecord share)
    {
        var p = share.Partial;
        if (_watermarkMs != long.MinValue && p.BucketStartMs + _closeAfterMs <= _watermarkMs && !_pending.ContainsKey(p.BucketStartMs))
        {
            // Its bucket closed here already (a redelivery after the close, or a source that ran
            // far behind): adding it now would change a point the detectors have scored.
            _late++;
            return;
        }

        if (!_pending.TryGetValue(p.BucketStartMs, out var shares))
        {
            shares = [];
            _pending.Add(p.BucketStartMs, shares);
        }

        shares[new ShareKey(share.Source, p.Service, p.Scope, p.ScopeKey ?? string.Empty)] = p;
    }

    private void HoldSlo(SloShareRecord record)
    {
        if (_slo is null)
        {
            // An ingest stage with SLOs and this one without: the group runs mixed settings.
            _unexpectedSloShares++;
            return;
        }

        _slo.AddShare(record.Source, record.Share);
    }

    private void OnWatermark(int source, long timeMs)
    {
        long min = _marks.Update(source, timeMs);
        if (min != long.MinValue && min > _watermarkMs)
        {
            Advance(min);
        }
    }

    private void Advance(long watermarkMs)
    {
        _watermarkMs = watermarkMs;
        while (_pending.Count > 0)
        {
            using var first = _pending.GetEnumerator();
            first.MoveNext();
            var (bucket, shares) = first.Current;
            if (bucket + _closeAfterMs > watermarkMs)
            {
                break;
            }

            _dueKeys.Clear();
            _dueKeys.AddRange(shares.Keys);
            _dueKeys.Sort();
            foreach (var key in _dueKeys)
            {
                _aggregator.AddPartial(shares[key]);
            }

            _pending.Remove(bucket);
        }

        _points.Clear();
        _aggregator.AdvanceTo(watermarkMs, _points);
        _replicas.Clear();
        foreach (var point in _points)
        {
            NoteReplica(point);
            if (_detection.Selected(point))
            {
                // The event time at which the single-process pipeline scored this point: its bucket's close.
                _detection.Detect(point, point.TimestampMs + _closeAfterMs);
            }
        }

        if (_slo is not null)
        {
            // Burn-rate alerts are already confirmed by their two windows: no episode gate. They are
            // emitted at their bucket's close, as a RED point is scored, so when the correlator takes
            // them does not depend on how the input was split.
            _sloAlerts.Clear();
            _slo.AdvanceTo(watermarkMs, _sloAlerts);
            foreach (var alert in _sloAlerts)
            {
                _detection.ForwardUngated(alert, alert.TimestampMs + _closeAfterMs);
            }
        }

        foreach (var ((service, instance), stats) in _replicas)
        {
            _output.Write(new GraphFactRecord
            {
                Source = _source,
                TimeMs = stats.BucketMs + _closeAfterMs,
                Fact = new GraphFact { Kind = GraphFactKind.Replica, Node = service, Other = instance, TimeMs = stats.BucketMs, LatencyP50Ms = stats.P50, ErrorRatio = stats.ErrorRatio },
            });
        }

        _output.Write(new WatermarkRecord { Source = _source, TimeMs = watermarkMs });
    }

    /// <summary>A replica's median and error ratio, as the single-process aggregator wrote them into its graph on the bucket's close.</summary>
    private void NoteReplica(in MetricPoint point)
    {
        var series = point.Series;
        if (point.Kind is not (MetricKind.ErrorRate or MetricKind.Latency) || !series.Labels.StartsWith(RedMetrics.InstanceLabel + "=", StringComparison.Ordinal))
        {
            return;
        }

        if (point.Kind == MetricKind.Latency && !string.Equals(series.Metric, RedMetrics.LatencyP50, StringComparison.Ordinal))
        {
            return;
        }

        var key = (series.Service, series.Labels[(RedMetrics.InstanceLabel.Length + 1)..]);
        _replicas.TryGetValue(key, out var stats);
        if (stats.BucketMs != point.TimestampMs)
        {
            stats = (double.NaN, double.NaN, point.TimestampMs);
        }

        stats = point.Kind == MetricKind.ErrorRate ? stats with { ErrorRatio = point.Value } : stats with { P50 = point.Value };
        _replicas[key] = stats;
    }

    private readonly record struct ShareKey(int Source, string Service, RedPartialScope Scope, string Key) : IComparable<ShareKey>
    {
        public int CompareTo(ShareKey other)
        {
            int c = string.CompareOrdinal(Service, other.Service);
            if (c == 0)
            {
                c = Scope.CompareTo(other.Scope);
            }

            if (c == 0)
            {
                c = string.CompareOrdinal(Key, other.Key);
            }

            return c != 0 ? c : Source.CompareTo(other.Source);
        }
    }
}
