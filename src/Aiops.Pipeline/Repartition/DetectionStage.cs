using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aiops.Core;
using Aiops.Detection;
using Aiops.Topology;

namespace Aiops.Pipeline.Repartition;

/// <summary>
/// Per-series detection with the episode gates: points in, confirmed verdicts (and sustains) out
/// to a <see cref="IStageSink"/>. The ingest stage runs one for the resource metric points of its
/// partition (a series lives in one resource partition), the per-service stage one for the merged
/// RED points of its services; the single-process pipeline shares one between both, so its
/// registry, series cap and checkpoint are those of the pipeline before the split.
/// </summary>
/// <remarks>Not thread-safe: one stage per consumer thread.</remarks>
public sealed class DetectionStage
{
    private const uint GatesMagic = 0x54474441; // "ADGT"
    private const int GatesVersion = 1;
    private const string GatesName = "detection gates state";
    private const int MaxEntries = 1 << 24;

    private readonly PipelineOptions _options;
    private readonly HashSet<string> _serviceMetrics;
    private readonly HashSet<string> _edgeMetrics;
    private readonly HashSet<string> _instanceMetrics;
    private readonly HashSet<string> _operationMetrics;
    private readonly List<Anomaly> _verdicts = new(64);
    private readonly Dictionary<SeriesKey, SeriesGate> _gates = [];
    private readonly IStageSink _sink;
    private readonly int _source;
    private long _emitAtMs;
    private DetectorRegistry _registry;
    private long _points;
    private long _anomalies;
    private long _suppressed;
    private string? _countService;
    private string? _countLabels;
    private double _countRequests;

    /// <summary>Creates a stage writing to <paramref name="sink"/> as <paramref name="source"/>.</summary>
    public DetectionStage(PipelineOptions options, IStageSink sink, int source)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        _source = source;
        _registry = new DetectorRegistry(_options.Profiles, _options.MaxSeries, _options.SeriesLimitPolicy);
        _serviceMetrics = new HashSet<string>(_options.ServiceMetrics, StringComparer.Ordinal);
        _edgeMetrics = new HashSet<string>(_options.EdgeMetrics, StringComparer.Ordinal);
        _instanceMetrics = new HashSet<string>(_options.InstanceMetrics, StringComparer.Ordinal);
        _operationMetrics = new HashSet<string>(_options.OperationMetrics, StringComparer.Ordinal);
    }

    /// <summary>The detectors, per series.</summary>
    public DetectorRegistry Detectors => _registry;

    /// <summary>Points scored.</summary>
    public long Points => _points;

    /// <summary>Verdicts raised (before the episode gate).</summary>
    public long Anomalies => _anomalies;

    /// <summary>Error-ratio verdicts held back by <see cref="PipelineOptions.MinErrorsPerBucket"/>.</summary>
    public long SuppressedAnomalies => _suppressed;

    /// <summary>How many buckets a RED series' latest point covered (the per-service stage's aggregator); 1 when unset.</summary>
    public Func<SeriesKey, int>? WindowBuckets { get; set; }

    /// <summary>Exemplar trace ids of a series' bucket, attached to each forwarded verdict; none when unset.</summary>
    public Func<SeriesKey, long, IReadOnlyList<string>>? Exemplars { get; set; }

    /// <summary>Observer of every scored point (see <see cref="EventTimePipeline.DetectionObserver"/>).</summary>
    public Action<MetricPoint, DetectionResult>? DetectionObserver { get; set; }

    /// <summary>Diagnostic callback (see <see cref="EventTimePipeline.Trace"/>).</summary>
    public Action<PipelineTrace>? Trace { get; set; }

    /// <summary>Forwards a verdict without the gate (burn-rate alerts, already confirmed by their two windows).</summary>
    public void ForwardUngated(Anomaly anomaly, long emitAtMs)
    {
        ArgumentNullException.ThrowIfNull(anomaly);
        _anomalies++;
        _emitAtMs = emitAtMs;
        Forward(anomaly);
    }

    /// <summary>Writes the detectors' state (see <see cref="DetectorRegistry.Save"/>).</summary>
    public void Save(Stream stream) => _registry.Save(stream);

    /// <summary>Replaces the detectors' state with a saved one; episode gates start afresh.</summary>
    public void Load(Stream stream, long points, long anomalies)
    {
        _registry = DetectorRegistry.Load(stream, _options.Profiles, _options.MaxSeries, _options.SeriesLimitPolicy);
        _points = points;
        _anomalies = anomalies;
    }

    /// <summary>
    /// Writes the open state beside the registry (magic <c>ADGT</c>): every series' episode gate
    /// (streak, reference band, held verdicts, recovery time), sorted by series, plus the request
    /// count the next latency point is checked against and the suppressed counter. The registry
    /// itself is <see cref="Save"/>'s. O(series with an episode); nothing per point.
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, GatesMagic, GatesVersion);
        writer.Write(_suppressed);
        writer.Write(_emitAtMs);
        StateFraming.WriteNullable(writer, _countService);
        StateFraming.WriteNullable(writer, _countLabels);
        writer.Write(_countRequests);
        var series = new List<SeriesKey>(_gates.Keys);
        series.Sort(static (a, b) => CorrelationStage.CompareSeries(a, b));
        writer.Write(series.Count);
        foreach (var key in series)
        {
            var gate = _gates[key];
            writer.Write(key.Service);
            writer.Write(key.Metric);
            writer.Write(key.Labels);
            writer.Write(gate.Streak);
            writer.Write(gate.Episode);
            writer.Write(gate.Forwarded);
            writer.Write(gate.LastVerdictMs);
            writer.Write(gate.ReferenceLower);
            writer.Write(gate.ReferenceUpper);
            writer.Write((sbyte)gate.Direction);
            writer.Write(gate.RecoveredUntilMs);
            writer.Write(gate.Held is not null);
            if (gate.Held is { } held)
            {
                writer.Write(held.Count);
                foreach (var anomaly in held)
                {
                    StageRecordCodec.WriteAnomaly(writer, anomaly);
                }
            }
        }

        StateFraming.WriteEnd(writer, GatesMagic);
    }

    /// <summary>
    /// Replaces the gates with ones written by <see cref="SaveState"/>; throws
    /// <see cref="InvalidDataException"/> naming the section on a bad, truncated or foreign one,
    /// and then leaves the gates as they were.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        long suppressed = 0, emitAt = 0;
        string? countService = null, countLabels = null;
        double countRequests = 0;
        var gates = new Dictionary<SeriesKey, SeriesGate>();
        StateFraming.Read(reader, GatesMagic, GatesVersion, GatesName, _ =>
        {
            suppressed = reader.ReadInt64();
            emitAt = reader.ReadInt64();
            countService = StateFraming.ReadNullable(reader);
            countLabels = StateFraming.ReadNullable(reader);
            countRequests = reader.ReadDouble();
            int count = StateFraming.ReadCount(reader, MaxEntries, "gate");
            for (int i = 0; i < count; i++)
            {
                var key = new SeriesKey(reader.ReadString(), reader.ReadString(), reader.ReadString());
                var gate = new SeriesGate
                {
                    Streak = reader.ReadInt32(),
                    Episode = reader.ReadBoolean(),
                    Forwarded = reader.ReadBoolean(),
                    LastVerdictMs = reader.ReadInt64(),
                    ReferenceLower = reader.ReadDouble(),
                    ReferenceUpper = reader.ReadDouble(),
                    Direction = (Direction)reader.ReadSByte(),
                    RecoveredUntilMs = reader.ReadInt64(),
                };
                if (reader.ReadBoolean())
                {
                    int held = StateFraming.ReadCount(reader, MaxEntries, "held verdict");
                    gate.Held = new List<Anomaly>(held);
                    for (int h = 0; h < held; h++)
                    {
                        gate.Held.Add(StageRecordCodec.ReadAnomaly(reader));
                    }
                }

                if (!gates.TryAdd(key, gate))
                {
                    throw new InvalidDataException($"The {GatesName} repeats series {key}.");
                }
            }
        });
        _suppressed = suppressed;
        _emitAtMs = emitAt;
        _countService = countService;
        _countLabels = countLabels;
        _countRequests = countRequests;
        _gates.Clear();
        foreach (var (key, gate) in gates)
        {
            _gates.Add(key, gate);
        }
    }

    /// <summary>
    /// RED series selection: the RED point's scope is read from its label (none = service,
    /// <c>callee=</c>, <c>instance=</c>, <c>operation=</c>), and latency quantiles of buckets with
    /// fewer than <see cref="PipelineOptions.MinRequestsPerBucket"/> requests (tails: fewer than
    /// <see cref="PipelineOptions.MinRequestsForTail"/>) are skipped (the
    /// aggregator emits a bucket's error ratio, with its request count, before its quantiles).
    /// </summary>
    public bool Selected(in MetricPoint point)
    {
        var series = point.Series;
        if (point.Kind == MetricKind.ErrorRate)
        {
            _countService = series.Service;
            _countLabels = series.Labels;
            _countRequests = point.Total;
        }

        var labels = series.Labels;
        var metrics = labels.Length == 0 ? _serviceMetrics
            : labels.StartsWith(RedMetrics.CalleeLabel + "=", StringComparison.Ordinal) ? _edgeMetrics
            : labels.StartsWith(RedMetrics.InstanceLabel + "=", StringComparison.Ordinal) ? _instanceMetrics
            : labels.StartsWith(RedMetrics.OperationLabel + "=", StringComparison.Ordinal) ? _operationMetrics
            : _serviceMetrics;
        if (!metrics.Contains(series.Metric))
        {
            return false;
        }

        if (point.Kind == MetricKind.Latency)
        {
            var counted = ReferenceEquals(_countService, series.Service) || string.Equals(_countService, series.Service, StringComparison.Ordinal);
            counted = counted && string.Equals(_countLabels, labels, StringComparison.Ordinal);
            var tail = series.Metric is RedMetrics.LatencyP95 or RedMetrics.LatencyP99;
            var enough = counted && _countRequests >= (tail ? Math.Max(_options.MinRequestsPerBucket, _options.MinRequestsForTail) : _options.MinRequestsPerBucket);
            if (!enough)
            {
                Trace?.Invoke(new PipelineTrace(TraceFate.BelowRequestFloor, point, null));
            }

            return enough;
        }

        return true;
    }

    /// <summary>
    /// Scores one point and runs the episode gate; confirmed verdicts and sustains go to the sink
    /// with <paramref name="emitAtMs"/> as their event time.
    /// </summary>
    public void Detect(in MetricPoint point, long emitAtMs)
    {
        _emitAtMs = emitAtMs;
        _points++;
        _verdicts.Clear();
        var result = _registry.Push(point, _verdicts);
        DetectionObserver?.Invoke(point, result);
        var raised = _verdicts.Count > 0;
        var fewErrors = point.Kind == MetricKind.ErrorRate && point.Total > 0 && point.Value * point.Total < _options.MinErrorsPerBucket - 0.5;
        if (raised && fewErrors)
        {
            _suppressed += _verdicts.Count;
            raised = false;
            TraceVerdicts(TraceFate.BelowErrorFloor, point);
        }

        _anomalies += raised ? _verdicts.Count : 0;
        ref var gate = ref CollectionsMarshal.GetValueRefOrNullRef(_gates, point.Series);
        if (Unsafe.IsNullRef(ref gate))
        {
            if (!raised)
            {
                // The common case: a normal point of a series with no episode going on.
                return;
            }

            if (_options.MinHistoryPoints > 0 && WindowBucketsOf(point.Series) > 1
                && _registry.Detectors.TryGetValue(point.Series, out var detector)
                && detector.Counters.Accepted < _options.MinHistoryPoints)
            {
                TraceVerdicts(TraceFate.Immature, point);
                return;
            }

            gate = ref CollectionsMarshal.GetValueRefOrAddDefault(_gates, point.Series, out _);
        }

        if (gate.Episode)
        {
            if (raised && gate.AllAgainst(_verdicts))
            {
                // The detector, having learnt the shifted level, fires the other way when the value
                // comes back: that is the end of the episode, not new evidence.
                TraceVerdicts(TraceFate.Recovery, point);
                EndEpisode(point, ref gate);
                return;
            }

            var continues = raised || (!fewErrors && (gate.Outside(in result) || gate.Beyond(point.Value)));
            if (!continues)
            {
                EndEpisode(point, ref gate);
                return;
            }
        }
        else
        {
            if (!raised)
            {
                if (point.TimestampMs > gate.RecoveredUntilMs)
                {
                    _gates.Remove(point.Series);
                }

                return;
            }

            if (point.TimestampMs <= gate.RecoveredUntilMs && gate.AllAgainst(_verdicts) && !gate.Beyond(point.Value))
            {
                TraceVerdicts(TraceFate.Recovery, point);
                return;
            }

            gate.Begin(_verdicts[0]);
        }

        gate.Streak++;
        if (raised)
        {
            gate.LastVerdictMs = point.TimestampMs;
        }

        if (gate.Streak < RequiredStreak(point))
        {
            if (raised)
            {
                (gate.Held ??= []).AddRange(_verdicts);
                TraceVerdicts(TraceFate.Held, point);
            }

            return;
        }

        if (gate.Held is { Count: > 0 } held)
        {
            foreach (var anomaly in held)
            {
                Forward(anomaly);
            }

            held.Clear();
            gate.Forwarded = true;
        }

        if (raised)
        {
            foreach (var anomaly in _verdicts)
            {
                Forward(anomaly);
            }

            gate.Forwarded = true;
        }
        else if (gate.Forwarded && point.TimestampMs - gate.LastVerdictMs <= _options.SustainMs)
        {
            _sink.Write(new SustainRecord { Source = _source, TimeMs = _emitAtMs, Series = point.Series, PointMs = point.TimestampMs });
        }
    }

    /// <summary>
    /// The streak that confirms an episode: <see cref="PipelineOptions.ConfirmPoints"/> points with
    /// no request in common. A quiet series' points are computed over windows of w buckets (see
    /// <see cref="TopologyOptions.MinWindowRequests"/>), so consecutive points share requests and
    /// one slow request moves w of them: c independent points then take (c − 1)·w + 1 points.
    /// Without it, in <c>eval rca</c> the windowed P50s of <c>email</c> and <c>accounting</c>
    /// opened 3 incidents in the fault-free week.
    /// </summary>
    private int RequiredStreak(in MetricPoint point)
    {
        var confirm = _options.ConfirmPoints;
        if (confirm <= 1 || point.Kind is not (MetricKind.Latency or MetricKind.ErrorRate))
        {
            return confirm;
        }

        return ((confirm - 1) * WindowBucketsOf(point.Series)) + 1;
    }

    /// <summary>
    /// A normal point: the episode of the series ends and its unconfirmed verdicts are dropped; its
    /// reference band and direction are kept for <see cref="PipelineOptions.SustainMs"/> so the
    /// detector's verdicts on the way back are recognised as the recovery.
    /// </summary>
    private void EndEpisode(in MetricPoint point, ref SeriesGate gate)
    {
        if (gate.Held is { Count: > 0 } dropped)
        {
            if (Trace is { } trace)
            {
                foreach (var anomaly in dropped)
                {
                    trace(new PipelineTrace(TraceFate.Unconfirmed, point, anomaly));
                }
            }

            dropped.Clear();
        }

        gate.Episode = false;
        gate.Forwarded = false;
        gate.Streak = 0;
        gate.RecoveredUntilMs = point.TimestampMs + _options.SustainMs;
    }

    private void TraceVerdicts(TraceFate fate, in MetricPoint point)
    {
        if (Trace is { } trace)
        {
            foreach (var anomaly in _verdicts)
            {
                trace(new PipelineTrace(fate, point, anomaly));
            }
        }
    }

    private void Forward(Anomaly anomaly)
    {
        Trace?.Invoke(new PipelineTrace(TraceFate.Forwarded, new MetricPoint(anomaly.Series, anomaly.Kind, anomaly.TimestampMs, anomaly.Observed), anomaly));
        var exemplars = anomaly.ExemplarTraceIds.Count == 0 && Exemplars is { } lookup ? lookup(anomaly.Series, anomaly.TimestampMs) : [];
        _sink.Write(new VerdictRecord { Source = _source, TimeMs = _emitAtMs, Anomaly = anomaly, Exemplars = exemplars });
    }

    private int WindowBucketsOf(SeriesKey series) => WindowBuckets is { } f ? f(series) : 1;

    /// <summary>
    /// The episode of one series that has raised a verdict: the confirmation gate
    /// (<see cref="PipelineOptions.ConfirmPoints"/>) and the band it is judged against.
    /// </summary>
    /// <remarks>
    /// A point continues the episode when it raises a verdict, falls outside the detector's current
    /// band, or stays beyond the band the detector had at the episode's first verdict, in that
    /// verdict's direction. The last test is what keeps a real shift confirmed: the detectors learn
    /// a new level within a few points (a CUSUM fires once and resets, the SSA forecast accepts the
    /// new level after its substitution limit), so in <c>eval rca</c> a 30% error ratio on a
    /// packet-losing edge fell inside the adapted band one minute after its spike verdict and the
    /// gate dropped it. Verdicts are held until the streak reaches the confirmation length; once
    /// passed, points that continue the episode without a verdict sustain the series' incident
    /// signal (<see cref="IncidentCorrelator.Sustain"/>) for up to <see cref="PipelineOptions.SustainMs"/>
    /// after its last verdict. A normal point ends the episode.
    /// </remarks>
    private struct SeriesGate
    {
        /// <summary>Consecutive abnormal points of the episode up to the latest.</summary>
        public int Streak;

        /// <summary>True while an episode is going on.</summary>
        public bool Episode;

        /// <summary>True once the episode's verdicts reached the correlator.</summary>
        public bool Forwarded;

        /// <summary>Event time of the episode's latest verdict.</summary>
        public long LastVerdictMs;

        /// <summary>The detector's band at the episode's first verdict.</summary>
        public double ReferenceLower;

        /// <summary>Upper edge of that band.</summary>
        public double ReferenceUpper;

        /// <summary>Direction of the first verdict (None: either side).</summary>
        public Direction Direction;

        /// <summary>Verdicts held until the streak reaches the confirmation length.</summary>
        public List<Anomaly>? Held;

        /// <summary>After an episode: until when verdicts against its direction are taken as its recovery.</summary>
        public long RecoveredUntilMs;

        public void Begin(Anomaly first)
        {
            Episode = true;
            Streak = 0;
            ReferenceLower = first.Lower;
            ReferenceUpper = first.Upper;
            Direction = first.Direction;
        }

        /// <summary>True when every verdict points the opposite way of the episode's first one.</summary>
        public readonly bool AllAgainst(List<Anomaly> verdicts)
        {
            if (Direction == Direction.None)
            {
                return false;
            }

            foreach (var anomaly in verdicts)
            {
                if (anomaly.Direction != (Direction)(-(sbyte)Direction))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>True when the point is outside the detector's current band on the episode's side.</summary>
        public readonly bool Outside(in DetectionResult result) => result.IsWarm && Direction switch
        {
            Direction.Up => result.Observed > result.Upper,
            Direction.Down => result.Observed < result.Lower,
            _ => result.Observed > result.Upper || result.Observed < result.Lower,
        };

        /// <summary>True when <paramref name="value"/> is beyond the reference band on the episode's side (false for a NaN band).</summary>
        public readonly bool Beyond(double value) => Direction switch
        {
            Direction.Up => value > ReferenceUpper,
            Direction.Down => value < ReferenceLower,
            _ => value > ReferenceUpper || value < ReferenceLower,
        };
    }
}
