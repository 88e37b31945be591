using Aiops.Core;
using Aiops.Topology;
using TopologyEvent = Aiops.Topology.IncidentEvent;
using TopologyEventKind = Aiops.Topology.IncidentEventKind;

namespace Aiops.Pipeline.Repartition;

/// <summary>
/// Stage C of the repartitioned pipeline, one for the whole group (the verdicts topic has one
/// partition, so it sees every service): builds the service graph from the graph facts, feeds the
/// verdicts to the <see cref="IncidentCorrelator"/> (grouping, RCA ranking, remediation hints) and
/// maps its events to <see cref="IncidentEvent"/>s with the ids of the single-process pipeline.
/// </summary>
/// <remarks>
/// Records are held until the minimum of the sources' watermarks passes their event time, then
/// taken one <see cref="PipelineOptions.AdvanceIntervalMs"/> grid point at a time: graph facts,
/// then verdicts and sustains, each sorted by a key of their content (event time, series,
/// detector), then the correlator's clock moves to the grid point. So the incidents depend on the
/// records, not on which source delivered first or how many sources there were.
/// </remarks>
public sealed class CorrelationStage : IStageSink
{
    private const uint StateMagic = 0x54534341; // "ACST"
    private const int StateVersion = 1;
    private const string StateName = "correlation stage state";
    private const int MaxEntries = 1 << 24;

    private readonly PipelineOptions _options;
    private readonly int _sources;
    private ServiceGraph _graph = new();
    private IncidentCorrelator _correlator;
    private SourceWatermarks _marks;
    private readonly List<StageRecord> _held = [];
    private readonly List<StageRecord> _due = [];
    private readonly List<IncidentEvent> _pending = [];
    private readonly Dictionary<(SeriesKey Series, DetectorKind Detector), Anomaly> _latestVerdicts = [];
    private IReadOnlyList<string> _currentExemplars = [];
    private long _watermarkMs = long.MinValue;
    private long _gridMs = long.MinValue;
    private long _lastAgeOutMs = long.MinValue;
    private long _incidents;

    /// <summary>Creates the stage, waiting for watermarks from <paramref name="sources"/> per-service stages.</summary>
    public CorrelationStage(PipelineOptions options, int sources)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(sources, 1);
        _options = options;
        _sources = sources;
        _marks = new SourceWatermarks(sources);
        _correlator = NewCorrelator(_graph);
    }

    /// <summary>The service graph built from the facts of every partition.</summary>
    public ServiceGraph Graph => _graph;

    /// <summary>Incidents opened.</summary>
    public long Incidents => _incidents;

    /// <summary>The grid point the correlator's clock stands at (Unix ms).</summary>
    public long WatermarkMs => _gridMs;

    /// <summary>Records held until their sources' watermarks pass them.</summary>
    public int HeldRecords => _held.Count;

    /// <summary>Takes a record of a per-service stage.</summary>
    public void Write(StageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record is WatermarkRecord mark)
        {
            OnWatermark(mark.Source, mark.TimeMs);
            return;
        }

        _held.Add(record);
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

    /// <summary>Restores the count of incidents opened so far (a checkpoint without <see cref="LoadState"/>'s open state).</summary>
    public void Restore(long incidents) => _incidents = incidents;

    /// <summary>
    /// Writes the stage's open state (magic <c>ACST</c>): the sources' watermarks, the clock (its
    /// watermark, grid point and last graph age-out), the incidents counter, the records held for
    /// their watermark in arrival order, the latest verdict per series and detector (sorted), the
    /// incident events not yet taken, then the service graph and the correlator. Restored into a
    /// fresh stage with the same options and sources, the same later records give the same events.
    /// O(state); nothing per record.
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, StateMagic, StateVersion);
        _marks.SaveState(writer);
        writer.Write(_watermarkMs);
        writer.Write(_gridMs);
        writer.Write(_lastAgeOutMs);
        writer.Write(_incidents);
        writer.Write(_held.Count);
        foreach (var record in _held)
        {
            StageRecordCodec.Write(writer, record);
        }

        var keys = new List<(SeriesKey Series, DetectorKind Detector)>(_latestVerdicts.Keys);
        keys.Sort(static (a, b) => CompareSeries(a.Series, b.Series) is var c && c != 0 ? c : a.Detector.CompareTo(b.Detector));
        writer.Write(keys.Count);
        foreach (var key in keys)
        {
            StageRecordCodec.WriteAnomaly(writer, _latestVerdicts[key]);
        }

        StateFraming.WriteStrings(writer, _currentExemplars);
        writer.Write(_pending.Count);
        foreach (var e in _pending)
        {
            WriteEvent(writer, e);
        }

        StateFraming.WriteEnd(writer, StateMagic);
        _graph.SaveState(writer);
        _correlator.SaveState(writer);
    }

    /// <summary>
    /// Replaces the stage's state with one written by <see cref="SaveState"/> (the stage must have
    /// the same options and sources); throws <see cref="InvalidDataException"/> naming the section
    /// on a bad, truncated or foreign one, and then leaves the stage as it was.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var marks = new SourceWatermarks(_sources);
        long watermark = 0, grid = 0, ageOut = 0, incidents = 0;
        var held = new List<StageRecord>();
        var latest = new Dictionary<(SeriesKey Series, DetectorKind Detector), Anomaly>();
        IReadOnlyList<string> exemplars = [];
        var pending = new List<IncidentEvent>();
        StateFraming.Read(reader, StateMagic, StateVersion, StateName, _ =>
        {
            marks.LoadState(reader);
            watermark = reader.ReadInt64();
            grid = reader.ReadInt64();
            ageOut = reader.ReadInt64();
            incidents = reader.ReadInt64();
            int count = StateFraming.ReadCount(reader, MaxEntries, "held record");
            for (int i = 0; i < count; i++)
            {
                var record = StageRecordCodec.Read(reader);
                if (record is WatermarkRecord or PartialRecord)
                {
                    throw new InvalidDataException($"The {StateName} holds a {record.GetType().Name}, which the stage never holds.");
                }

                held.Add(record);
            }

            count = StateFraming.ReadCount(reader, MaxEntries, "latest verdict");
            for (int i = 0; i < count; i++)
            {
                var anomaly = StageRecordCodec.ReadAnomaly(reader);
                latest[(anomaly.Series, anomaly.Detector)] = anomaly;
            }

            exemplars = StateFraming.ReadStrings(reader, MaxEntries, "exemplar");
            count = StateFraming.ReadCount(reader, MaxEntries, "pending event");
            for (int i = 0; i < count; i++)
            {
                pending.Add(ReadEvent(reader));
            }
        });
        var graph = new ServiceGraph();
        graph.LoadState(reader);
        var correlator = NewCorrelator(graph);
        correlator.LoadState(reader);

        _marks = marks;
        _watermarkMs = watermark;
        _gridMs = grid;
        _lastAgeOutMs = ageOut;
        _incidents = incidents;
        _held.Clear();
        _held.AddRange(held);
        _latestVerdicts.Clear();
        foreach (var (key, anomaly) in latest)
        {
            _latestVerdicts.Add(key, anomaly);
        }

        _currentExemplars = exemplars;
        _pending.Clear();
        _pending.AddRange(pending);
        _graph = graph;
        _correlator = correlator;
    }

    private IncidentCorrelator NewCorrelator(ServiceGraph graph) => new(graph, _options.Correlator, (_, _) => _currentExemplars);

    private static void WriteEvent(BinaryWriter writer, IncidentEvent e)
    {
        writer.Write((byte)e.Kind);
        writer.Write(e.IncidentId);
        writer.Write(e.TimestampMs);
        writer.Write(e.OpenedAtMs);
        writer.Write(e.ResolvedAtMs.HasValue);
        writer.Write(e.ResolvedAtMs.GetValueOrDefault());
        writer.Write(e.Summary);
        StateFraming.WriteStrings(writer, e.AffectedNodes);
        writer.Write(e.RootCauses.Count);
        foreach (var cause in e.RootCauses)
        {
            writer.Write(cause.Node);
            writer.Write(cause.Rank);
            writer.Write(cause.Score);
            writer.Write(cause.OnsetMs);
            WriteAnomalies(writer, cause.Evidence);
            StateFraming.WriteStrings(writer, cause.Path);
            StateFraming.WriteStrings(writer, cause.ExemplarTraceIds);
            StateFraming.WriteNullable(writer, cause.Hint);
        }

        WriteAnomalies(writer, e.Anomalies);
    }

    private static IncidentEvent ReadEvent(BinaryReader reader)
    {
        byte kind = reader.ReadByte();
        if (kind > (byte)IncidentEventKind.Resolve)
        {
            throw new InvalidDataException($"The {StateName} has unknown incident event kind {kind}.");
        }

        string id = reader.ReadString();
        long time = reader.ReadInt64();
        long opened = reader.ReadInt64();
        bool resolved = reader.ReadBoolean();
        long resolvedAt = reader.ReadInt64();
        string summary = reader.ReadString();
        var nodes = StateFraming.ReadStrings(reader, MaxEntries, "affected node");
        var causes = new RankedCause[StateFraming.ReadCount(reader, MaxEntries, "root cause")];
        for (int i = 0; i < causes.Length; i++)
        {
            causes[i] = new RankedCause
            {
                Node = reader.ReadString(),
                Rank = reader.ReadInt32(),
                Score = reader.ReadDouble(),
                OnsetMs = reader.ReadInt64(),
                Evidence = ReadAnomalies(reader),
                Path = StateFraming.ReadStrings(reader, MaxEntries, "path node"),
                ExemplarTraceIds = StateFraming.ReadStrings(reader, MaxEntries, "exemplar"),
                Hint = StateFraming.ReadNullable(reader),
            };
        }

        return new IncidentEvent
        {
            Kind = (IncidentEventKind)kind,
            IncidentId = id,
            TimestampMs = time,
            OpenedAtMs = opened,
            ResolvedAtMs = resolved ? resolvedAt : null,
            Summary = summary,
            AffectedNodes = nodes,
            RootCauses = causes,
            Anomalies = ReadAnomalies(reader),
        };
    }

    private static void WriteAnomalies(BinaryWriter writer, IReadOnlyList<Anomaly> anomalies)
    {
        writer.Write(anomalies.Count);
        foreach (var anomaly in anomalies)
        {
            StageRecordCodec.WriteAnomaly(writer, anomaly);
        }
    }

    private static Anomaly[] ReadAnomalies(BinaryReader reader)
    {
        var anomalies = new Anomaly[StateFraming.ReadCount(reader, MaxEntries, "anomaly")];
        for (int i = 0; i < anomalies.Length; i++)
        {
            anomalies[i] = StageRecordCodec.ReadAnomaly(reader);
        }

        return anomalies;
    }

    private void OnWatermark(int source, long timeMs)
    {
        long min = _marks.Update(source, timeMs);
        if (min != long.MinValue && min > _watermarkMs)
        {
            _watermarkMs = min;
            Advance();
        }
    }

    private void Advance()
    {
        long interval = _options.AdvanceIntervalMs;
        long last = FloorToGrid(_watermarkMs, interval);
        if (last <= _gridMs)
        {
            return;
        }

        _due.Clear();
        int keep = 0;
        for (int i = 0; i < _held.Count; i++)
        {
            var record = _held[i];
            if (record.TimeMs <= last)
            {
                _due.Add(record);
            }
            else
            {
                _held[keep++] = record;
            }
        }

        _held.RemoveRange(keep, _held.Count - keep);
        _due.Sort(static (a, b) => Compare(a, b));
        long first = _gridMs == long.MinValue
            ? (_due.Count > 0 ? CeilToGrid(_due[0].TimeMs, interval) : last)
            : _gridMs + interval;
        int next = 0;
        for (long g = first; g <= last; g += interval)
        {
            while (next < _due.Count && _due[next].TimeMs <= g)
            {
                Apply(_due[next++]);
            }

            if (_lastAgeOutMs == long.MinValue || g - _lastAgeOutMs >= _options.BucketMs)
            {
                _lastAgeOutMs = g;
                _graph.RemoveIdle(g - _options.Topology.IdleTimeoutMs);
            }

            Collect(_correlator.AdvanceTo(g));
            _gridMs = g;
        }

        while (next < _due.Count)
        {
            // Only records older than the first grid point (the stage's first advance) are left.
            Apply(_due[next++]);
        }
    }

    private void Apply(StageRecord record)
    {
        switch (record)
        {
            case GraphFactRecord fact:
                _graph.Apply(fact.Fact);
                break;
            case VerdictRecord verdict:
                _latestVerdicts[(verdict.Anomaly.Series, verdict.Anomaly.Detector)] = verdict.Anomaly;
                _currentExemplars = verdict.Exemplars;
                _correlator.Observe(verdict.Anomaly);
                _currentExemplars = [];
                break;
            case SustainRecord sustain:
                _correlator.Sustain(sustain.Series, sustain.PointMs);
                break;
        }
    }

    private void Collect(IReadOnlyList<TopologyEvent> events)
    {
        foreach (var e in events)
        {
            if (e.Kind == TopologyEventKind.Open)
            {
                _incidents++;
            }

            _pending.Add(Map(e));
            if (e.Kind == TopologyEventKind.Resolve)
            {
                Forget(e.Incident);
            }
        }
    }

    /// <summary>
    /// The order records of one grid point are taken in: by grid point, graph facts before replica
    /// statistics before verdicts and sustains, then event time, then content (series, detector,
    /// node names): nothing that depends on arrival.
    /// </summary>
    private static int Compare(StageRecord a, StageRecord b)
    {
        int c = a.TimeMs.CompareTo(b.TimeMs);
        if (c != 0)
        {
            return c;
        }

        c = Rank(a).CompareTo(Rank(b));
        if (c != 0)
        {
            return c;
        }

        return (a, b) switch
        {
            (GraphFactRecord x, GraphFactRecord y) => CompareFacts(x.Fact, y.Fact),
            (VerdictRecord x, VerdictRecord y) => CompareVerdicts(x.Anomaly, y.Anomaly),
            (SustainRecord x, SustainRecord y) => CompareSeries(x.Series, y.Series) is var s && s != 0 ? s : x.PointMs.CompareTo(y.PointMs),
            _ => 0,
        };
    }

    private static int Rank(StageRecord record) => record switch
    {
        GraphFactRecord { Fact.Kind: GraphFactKind.Replica } => 1,
        GraphFactRecord => 0,
        VerdictRecord => 2,
        _ => 3,
    };

    private static int CompareFacts(GraphFact a, GraphFact b)
    {
        int c = a.Kind.CompareTo(b.Kind);
        c = c != 0 ? c : string.CompareOrdinal(a.Node, b.Node);
        c = c != 0 ? c : string.CompareOrdinal(a.Other, b.Other);
        c = c != 0 ? c : a.FirstMs.CompareTo(b.FirstMs);
        return c != 0 ? c : string.CompareOrdinal(a.Version, b.Version);
    }

    private static int CompareVerdicts(Anomaly a, Anomaly b)
    {
        int c = a.TimestampMs.CompareTo(b.TimestampMs);
        c = c != 0 ? c : CompareSeries(a.Series, b.Series);
        return c != 0 ? c : a.Detector.CompareTo(b.Detector);
    }

    /// <summary>Ordinal order of series (service, metric, labels): the order content-sorted records and saved states use.</summary>
    internal static int CompareSeries(SeriesKey a, SeriesKey b)
    {
        int c = string.CompareOrdinal(a.Service, b.Service);
        c = c != 0 ? c : string.CompareOrdinal(a.Metric, b.Metric);
        return c != 0 ? c : string.CompareOrdinal(a.Labels, b.Labels);
    }

    private static long FloorToGrid(long ms, long interval) => ms - (((ms % interval) + interval) % interval);

    private static long CeilToGrid(long ms, long interval)
    {
        long floor = FloorToGrid(ms, interval);
        return floor == ms ? ms : floor + interval;
    }

    private void Forget(Incident incident)
    {
        foreach (var signal in incident.Signals)
        {
            _latestVerdicts.Remove((new SeriesKey(signal.Service, signal.Metric, signal.Labels), signal.Detector));
        }
    }

    private IncidentEvent Map(TopologyEvent e)
    {
        var incident = e.Incident;
        var causes = new RankedCause[incident.RootCauses.Count];
        for (var i = 0; i < causes.Length; i++)
        {
            var c = incident.RootCauses[i];
            causes[i] = new RankedCause
            {
                Node = c.Node,
                Rank = c.Rank,
                Score = c.Score,
                OnsetMs = c.SinceMs,
                Evidence = ToAnomalies(c.Signals),
                Path = c.Path,
                ExemplarTraceIds = c.ExemplarTraceIds,
                Hint = string.IsNullOrEmpty(c.RemediationHint) ? null : c.RemediationHint,
            };
        }

        return new IncidentEvent
        {
            Kind = e.Kind switch
            {
                TopologyEventKind.Open => IncidentEventKind.Open,
                TopologyEventKind.Resolve => IncidentEventKind.Resolve,
                _ => IncidentEventKind.Update,
            },
            IncidentId = incident.Id,
            TimestampMs = e.TimestampMs,
            OpenedAtMs = incident.FirstEvidenceMs,
            ResolvedAtMs = incident.ResolvedMs,
            Summary = string.IsNullOrEmpty(incident.Title) ? incident.Symptom : incident.Title,
            AffectedNodes = incident.Nodes,
            RootCauses = causes,
            Anomalies = ToAnomalies(incident.Signals),
        };
    }

    /// <summary>
    /// The verdicts behind an incident's signals: the latest full <see cref="Anomaly"/> (band,
    /// p-value) the detectors raised for each series and detector, or one rebuilt from the signal.
    /// </summary>
    private Anomaly[] ToAnomalies(IReadOnlyList<IncidentSignal> signals)
    {
        var result = new Anomaly[signals.Count];
        for (var i = 0; i < result.Length; i++)
        {
            var s = signals[i];
            var series = new SeriesKey(s.Service, s.Metric, s.Labels);
            result[i] = _latestVerdicts.TryGetValue((series, s.Detector), out var anomaly)
                ? anomaly with { SinceMs = Math.Min(anomaly.SinceMs, s.SinceMs), ExemplarTraceIds = s.ExemplarTraceIds.Count > 0 ? s.ExemplarTraceIds : anomaly.ExemplarTraceIds }
                : new Anomaly
                {
                    Series = series,
                    Kind = s.Kind,
                    Detector = s.Detector,
                    TimestampMs = s.LastSeenMs,
                    SinceMs = s.SinceMs,
                    Observed = s.Observed,
                    Expected = s.Expected,
                    Lower = double.NaN,
                    Upper = double.NaN,
                    PValue = double.NaN,
                    Score = s.Score,
                    Direction = s.Direction,
                    Detail = s.Detail,
                    ExemplarTraceIds = s.ExemplarTraceIds,
                };
        }

        return result;
    }
}
