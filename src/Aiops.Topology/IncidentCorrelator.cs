using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aiops.Core;

namespace Aiops.Topology;

/// <summary>Settings of <see cref="IncidentCorrelator"/>.</summary>
public sealed class CorrelatorOptions
{
    /// <summary>
    /// An anomaly joins an open incident whose evidence spans a time within this distance (ms):
    /// 10 min, long enough for a fault to propagate through a few hops and for slow detectors
    /// (trend, CUSUM) to fire.
    /// </summary>
    public long CorrelationWindowMs { get; set; } = 10 * 60_000;

    /// <summary>
    /// A signal (series × detector) with no verdict for this long (ms) before the incident's latest
    /// evidence is retired: it no longer attracts new anomalies nor takes part in the ranking.
    /// 10 min. Without it, one long incident fed by sporadic noise would absorb every later fault
    /// and rank that fault against hour-old noise.
    /// </summary>
    public long SignalTtlMs { get; set; } = 10 * 60_000;

    /// <summary>An anomaly joins an incident with a node at most this many hops away (either direction): 2.</summary>
    public int MaxHops { get; set; } = 2;

    /// <summary>An incident resolves after its symptoms have been quiet this long (ms): 15 min.</summary>
    public long QuietMs { get; set; } = 15 * 60_000;

    /// <summary>
    /// An incident opens this long (ms) after its first evidence, so the anomalies of the same
    /// fault that land one bucket later are ranked together: 60 s.
    /// </summary>
    public long OpenDelayMs { get; set; } = 60_000;

    /// <summary>Distinct signals (series × detector) needed before an incident opens: 1.</summary>
    public int MinSignalsToOpen { get; set; } = 1;

    /// <summary>
    /// Distinct verdict timestamps (detector points, i.e. buckets) the incident's evidence must span
    /// before it opens: 2. One failed request at low traffic lights up the service, operation,
    /// instance and edge error series of a single bucket at once; a real fault keeps firing in the
    /// next bucket. Costs one bucket of time to first incident.
    /// </summary>
    public int MinEvidenceTimestamps { get; set; } = 2;

    /// <summary>Anomalies scoring below this are ignored: 0 (take all verdicts).</summary>
    public double MinScore { get; set; }

    /// <summary>
    /// The first anomaly's timestamp is floored to this (ms) inside the incident id, so a
    /// replay whose verdict lands a little earlier or later in the same minute gets the same id: 60 s.
    /// </summary>
    public long IdBucketMs { get; set; } = 60_000;

    /// <summary>How long (ms) seen anomalies and resolved incident ids are remembered for dedup: 24 h.</summary>
    public long DedupRetentionMs { get; set; } = 24 * 3_600_000;

    /// <summary>Ranking settings.</summary>
    public RcaOptions Rca { get; set; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (CorrelationWindowMs < 0 || SignalTtlMs <= 0 || QuietMs <= 0 || OpenDelayMs < 0 || IdBucketMs <= 0 || DedupRetentionMs <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CorrelationWindowMs), "Correlator windows must be positive (the window and open delay may be 0).");
        }

        if (MaxHops < 0 || MinSignalsToOpen < 1 || MinEvidenceTimestamps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxHops), "MaxHops must be ≥ 0 and MinSignalsToOpen ≥ 1.");
        }
    }
}

/// <summary>
/// Groups anomalies into incidents: an anomaly joins an open incident when it is close in time
/// (<see cref="CorrelatorOptions.CorrelationWindowMs"/>) and its node is within
/// <see cref="CorrelatorOptions.MaxHops"/> of one of the incident's nodes on the service graph;
/// otherwise it starts a new one. An incident opens (after a short delay to gather the rest of the
/// first burst), updates when its nodes, signals or ranking change, and resolves when quiet.
/// </summary>
/// <remarks>
/// The incident id is a hash of the first anomaly's series, detector and timestamp floored to
/// <see cref="CorrelatorOptions.IdBucketMs"/>: reprocessing the same data makes the same id, and
/// a verdict seen twice (same series, detector and timestamp) is ignored, so at-least-once
/// delivery never makes a second incident. Not thread-safe.
/// </remarks>
public sealed class IncidentCorrelator
{
    private const uint StateMagic = 0x52434941; // "AICR"
    private const int StateVersion = 1;
    private const string StateName = "incident correlator state";
    private const int MaxEntries = 1 << 24;

    private readonly ServiceGraph _graph;
    private readonly CorrelatorOptions _options;
    private readonly Func<SeriesKey, long, IReadOnlyList<string>>? _exemplars;
    private readonly List<OpenIncident> _open = [];
    private readonly Dictionary<string, long> _knownIds = new(StringComparer.Ordinal);
    private readonly HashSet<(SeriesKey Series, DetectorKind Detector, long TimestampMs)> _seen = [];
    private readonly Queue<(SeriesKey Series, DetectorKind Detector, long TimestampMs)> _seenOrder = new();
    private long _watermark = long.MinValue;

    /// <summary>Creates a correlator over <paramref name="graph"/> (usually <see cref="SpanAggregator.Graph"/>).</summary>
    /// <param name="graph">The service graph used for neighbourhoods and ranking.</param>
    /// <param name="options">Settings; validated.</param>
    /// <param name="exemplars">
    /// Optional lookup of exemplar trace ids by series and time (e.g.
    /// <see cref="SpanAggregator.GetExemplarTraceIds"/>) for anomalies that carry none.
    /// </param>
    public IncidentCorrelator(ServiceGraph graph, CorrelatorOptions? options = null, Func<SeriesKey, long, IReadOnlyList<string>>? exemplars = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        _graph = graph;
        _options = options ?? new CorrelatorOptions();
        _options.Validate();
        _exemplars = exemplars;
    }

    /// <summary>Anomalies ignored because the same verdict was seen before.</summary>
    public long DuplicateAnomalies { get; private set; }

    /// <summary>Anomalies ignored because their score was below <see cref="CorrelatorOptions.MinScore"/>.</summary>
    public long IgnoredAnomalies { get; private set; }

    /// <summary>Incidents not yet resolved (including those waiting for their open delay).</summary>
    public int OpenCount => _open.Count;

    /// <summary>Snapshot of the incidents not yet resolved.</summary>
    public IReadOnlyList<Incident> OpenIncidents
    {
        get
        {
            var result = new List<Incident>(_open.Count);
            foreach (var incident in _open)
            {
                result.Add(incident.Snapshot(IncidentState.Open, null, _options.SignalTtlMs));
            }

            return result;
        }
    }

    /// <summary>Takes one verdict. Events come out of <see cref="AdvanceTo(long)"/>.</summary>
    public void Observe(Anomaly anomaly)
    {
        ArgumentNullException.ThrowIfNull(anomaly);
        if (anomaly.Score < _options.MinScore)
        {
            IgnoredAnomalies++;
            return;
        }

        var identity = (anomaly.Series, anomaly.Detector, anomaly.TimestampMs);
        if (!_seen.Add(identity))
        {
            DuplicateAnomalies++;
            return;
        }

        _seenOrder.Enqueue(identity);
        string node = RedMetrics.NodeOf(anomaly.Series);
        var target = FindIncident(node, anomaly.TimestampMs);
        if (target is null)
        {
            string id = IncidentId(anomaly);
            if (_knownIds.ContainsKey(id))
            {
                // The incident this verdict would start was already reported and resolved.
                DuplicateAnomalies++;
                return;
            }

            target = new OpenIncident(id, anomaly.TimestampMs);
            _open.Add(target);
            _knownIds[id] = anomaly.TimestampMs;
        }

        var exemplars = anomaly.ExemplarTraceIds;
        if (exemplars.Count == 0 && _exemplars is not null)
        {
            exemplars = _exemplars(anomaly.Series, anomaly.TimestampMs);
        }

        target.Add(node, anomaly, exemplars);
    }

    /// <summary>
    /// Records that <paramref name="series"/> is still abnormal at <paramref name="timestampMs"/>
    /// without a new verdict (its detector has adapted to the shifted level, but the value is still
    /// beyond the band of its first verdict): every signal of that series in a not-yet-resolved
    /// incident counts as seen then, so the incident neither resolves nor retires the signal while
    /// its symptom lasts. Starts no incident.
    /// </summary>
    /// <returns>True when an incident held a signal of the series.</returns>
    public bool Sustain(SeriesKey series, long timestampMs)
    {
        var found = false;
        foreach (var incident in _open)
        {
            found |= incident.Sustain(series, timestampMs);
        }

        return found;
    }

    /// <summary>
    /// Moves event time to <paramref name="eventTimeMs"/> and returns the incident events due:
    /// opens after the open delay, updates when the evidence changed the incident, resolves after
    /// the quiet time.
    /// </summary>
    public IReadOnlyList<IncidentEvent> AdvanceTo(long eventTimeMs)
    {
        if (eventTimeMs > _watermark)
        {
            _watermark = eventTimeMs;
        }

        long now = _watermark;
        var events = new List<IncidentEvent>();
        for (int i = 0; i < _open.Count; i++)
        {
            var incident = _open[i];
            bool quiet = now - incident.LastEvidenceMs >= _options.QuietMs;
            if (!incident.Opened)
            {
                bool due = now - incident.FirstEvidenceMs >= _options.OpenDelayMs || quiet;
                if (due && incident.Signals.Count >= _options.MinSignalsToOpen && incident.EvidenceTimestamps.Count >= _options.MinEvidenceTimestamps)
                {
                    incident.Opened = true;
                    incident.OpenedMs = now;
                    Rank(incident);
                    events.Add(new IncidentEvent { Kind = IncidentEventKind.Open, TimestampMs = now, Incident = incident.Snapshot(IncidentState.Open, null, _options.SignalTtlMs) });
                }
                else if (quiet)
                {
                    // Never reached the evidence needed to open: drop it silently (nothing was
                    // announced), and free its id for a later, better-supported incident.
                    _knownIds.Remove(incident.Id);
                    _open.RemoveAt(i--);
                    continue;
                }
            }
            else if (incident.Dirty)
            {
                string before = incident.Fingerprint;
                Rank(incident);
                if (!string.Equals(before, incident.Fingerprint, StringComparison.Ordinal))
                {
                    events.Add(new IncidentEvent { Kind = IncidentEventKind.Update, TimestampMs = now, Incident = incident.Snapshot(IncidentState.Open, null, _options.SignalTtlMs) });
                }
            }

            if (quiet && incident.Opened)
            {
                events.Add(new IncidentEvent { Kind = IncidentEventKind.Resolve, TimestampMs = now, Incident = incident.Snapshot(IncidentState.Resolved, now, _options.SignalTtlMs) });
                _open.RemoveAt(i--);
            }
        }

        Forget(now - _options.DedupRetentionMs);
        return events;
    }

    /// <summary>
    /// Writes the correlator's open state (magic <c>AICR</c>): its clock, the counters, the verdicts
    /// remembered for dedup in arrival order, the ids already used (sorted), and every incident not
    /// yet resolved with its signals, evidence times and current ranking. Not the graph (its owner
    /// saves it, see <see cref="ServiceGraph.SaveState"/>). Restored into a fresh correlator with the
    /// same options and graph, the same later verdicts give the same events, byte for byte.
    /// O(open state); nothing is written per verdict.
    /// </summary>
    public void SaveState(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StateFraming.WriteHeader(writer, StateMagic, StateVersion);
        writer.Write(_watermark);
        writer.Write(DuplicateAnomalies);
        writer.Write(IgnoredAnomalies);
        writer.Write(_seenOrder.Count);
        foreach (var (series, detector, timestampMs) in _seenOrder)
        {
            StateFraming.WriteSeries(writer, series);
            writer.Write((byte)detector);
            writer.Write(timestampMs);
        }

        var ids = new List<string>(_knownIds.Keys);
        ids.Sort(StringComparer.Ordinal);
        writer.Write(ids.Count);
        foreach (string id in ids)
        {
            writer.Write(id);
            writer.Write(_knownIds[id]);
        }

        writer.Write(_open.Count);
        foreach (var incident in _open)
        {
            incident.Write(writer);
        }

        StateFraming.WriteEnd(writer, StateMagic);
    }

    /// <summary>
    /// Loads a state written by <see cref="SaveState"/> into this freshly constructed correlator;
    /// throws <see cref="InvalidDataException"/> (naming the section) on a bad, truncated or
    /// foreign one, <see cref="InvalidOperationException"/> when this one has already taken verdicts.
    /// </summary>
    public void LoadState(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (_seenOrder.Count > 0 || _open.Count > 0 || _knownIds.Count > 0 || _watermark != long.MinValue)
        {
            throw new InvalidOperationException("A correlator state loads into a freshly constructed correlator only.");
        }

        StateFraming.Read(reader, StateMagic, StateVersion, StateName, _ =>
        {
            _watermark = reader.ReadInt64();
            DuplicateAnomalies = reader.ReadInt64();
            IgnoredAnomalies = reader.ReadInt64();
            int seen = StateFraming.ReadCount(reader, MaxEntries, "remembered verdict");
            for (int i = 0; i < seen; i++)
            {
                var identity = (StateFraming.ReadSeries(reader), ReadDetector(reader), reader.ReadInt64());
                if (!_seen.Add(identity))
                {
                    throw new InvalidDataException($"The {StateName} repeats the verdict {identity.Item1} {identity.Item2} at {identity.Item3}.");
                }

                _seenOrder.Enqueue(identity);
            }

            int ids = StateFraming.ReadCount(reader, MaxEntries, "incident id");
            for (int i = 0; i < ids; i++)
            {
                string id = reader.ReadString();
                if (!_knownIds.TryAdd(id, reader.ReadInt64()))
                {
                    throw new InvalidDataException($"The {StateName} repeats incident id {id}.");
                }
            }

            int open = StateFraming.ReadCount(reader, MaxEntries, "open incident");
            for (int i = 0; i < open; i++)
            {
                _open.Add(OpenIncident.Read(reader));
            }
        });
    }

    private static DetectorKind ReadDetector(BinaryReader reader)
    {
        byte value = reader.ReadByte();
        return value <= (byte)DetectorKind.ReplicaDrift
            ? (DetectorKind)value
            : throw new InvalidDataException($"The {StateName} has unknown detector kind {value}.");
    }

    private static void WriteSignal(BinaryWriter writer, IncidentSignal signal)
    {
        writer.Write(signal.Node);
        writer.Write(signal.Service);
        writer.Write(signal.Metric);
        writer.Write(signal.Labels);
        writer.Write((byte)signal.Kind);
        writer.Write((byte)signal.Detector);
        writer.Write((sbyte)signal.Direction);
        writer.Write(signal.SinceMs);
        writer.Write(signal.FirstSeenMs);
        writer.Write(signal.LastSeenMs);
        writer.Write(signal.Verdicts);
        writer.Write(signal.Score);
        writer.Write(signal.Observed);
        writer.Write(signal.Expected);
        StateFraming.WriteNullable(writer, signal.Detail);
        StateFraming.WriteStrings(writer, signal.ExemplarTraceIds);
    }

    private static IncidentSignal ReadSignal(BinaryReader reader) => new()
    {
        Node = reader.ReadString(),
        Service = reader.ReadString(),
        Metric = reader.ReadString(),
        Labels = reader.ReadString(),
        Kind = (MetricKind)reader.ReadByte(),
        Detector = ReadDetector(reader),
        Direction = (Direction)reader.ReadSByte(),
        SinceMs = reader.ReadInt64(),
        FirstSeenMs = reader.ReadInt64(),
        LastSeenMs = reader.ReadInt64(),
        Verdicts = reader.ReadInt32(),
        Score = reader.ReadDouble(),
        Observed = reader.ReadDouble(),
        Expected = reader.ReadDouble(),
        Detail = StateFraming.ReadNullable(reader),
        ExemplarTraceIds = StateFraming.ReadStrings(reader, MaxEntries, "exemplar"),
    };

    /// <summary>A ranked candidate, its score parts in their own (insertion) order, which is the order the JSON writes them in.</summary>
    private static void WriteCandidate(BinaryWriter writer, RootCauseCandidate candidate)
    {
        writer.Write(candidate.Node);
        writer.Write(candidate.Rank);
        writer.Write(candidate.Score);
        writer.Write(candidate.IsVirtual);
        writer.Write(candidate.Signals.Count);
        foreach (var signal in candidate.Signals)
        {
            WriteSignal(writer, signal);
        }

        writer.Write(candidate.SinceMs);
        StateFraming.WriteStrings(writer, candidate.ExemplarTraceIds);
        StateFraming.WriteStrings(writer, candidate.Path);
        writer.Write((byte)candidate.Remediation);
        writer.Write(candidate.RemediationHint);
        writer.Write(candidate.ScoreParts.Count);
        foreach (var (part, value) in candidate.ScoreParts)
        {
            writer.Write(part);
            writer.Write(value);
        }
    }

    private static RootCauseCandidate ReadCandidate(BinaryReader reader)
    {
        string node = reader.ReadString();
        int rank = reader.ReadInt32();
        double score = reader.ReadDouble();
        bool isVirtual = reader.ReadBoolean();
        var signals = new IncidentSignal[StateFraming.ReadCount(reader, MaxEntries, "candidate signal")];
        for (int i = 0; i < signals.Length; i++)
        {
            signals[i] = ReadSignal(reader);
        }

        long since = reader.ReadInt64();
        var exemplars = StateFraming.ReadStrings(reader, MaxEntries, "exemplar");
        var path = StateFraming.ReadStrings(reader, MaxEntries, "path node");
        byte remediation = reader.ReadByte();
        if (remediation > (byte)RemediationKind.CaptureProfile)
        {
            throw new InvalidDataException($"The {StateName} has unknown remediation kind {remediation}.");
        }

        string hint = reader.ReadString();
        int parts = StateFraming.ReadCount(reader, MaxEntries, "score part");
        var scoreParts = new Dictionary<string, double>(parts, StringComparer.Ordinal);
        for (int i = 0; i < parts; i++)
        {
            scoreParts[reader.ReadString()] = reader.ReadDouble();
        }

        return new RootCauseCandidate
        {
            Node = node,
            Rank = rank,
            Score = score,
            IsVirtual = isVirtual,
            Signals = signals,
            SinceMs = since,
            ExemplarTraceIds = exemplars,
            Path = path,
            Remediation = (RemediationKind)remediation,
            RemediationHint = hint,
            ScoreParts = scoreParts,
        };
    }

    private void Rank(OpenIncident incident)
    {
        var signals = incident.SignalList(_options.SignalTtlMs);
        incident.RootCauses = RootCauseRanker.Rank(signals, _graph, _options.Rca, out string symptom);
        incident.Symptom = symptom;
        incident.Dirty = false;
        var fingerprint = new StringBuilder();
        fingerprint.Append(incident.ActiveNodes(_options.SignalTtlMs).Count).Append('|').Append(signals.Count);
        for (int r = 0; r < Math.Min(3, incident.RootCauses.Count); r++)
        {
            fingerprint.Append('|').Append(incident.RootCauses[r].Node);
        }

        incident.Fingerprint = fingerprint.ToString();
    }

    private OpenIncident? FindIncident(string node, long timestampMs)
    {
        long window = _options.CorrelationWindowMs;
        HashSet<string>? neighbourhood = null;
        foreach (var incident in _open)
        {
            if (timestampMs < incident.FirstEvidenceMs - window || timestampMs > incident.LastEvidenceMs + window)
            {
                continue;
            }

            // Active relative to this verdict's time: a signal silent for the TTL attracts nothing.
            var active = incident.ActiveNodesAt(timestampMs - _options.SignalTtlMs);
            if (active.Contains(node))
            {
                return incident;
            }

            // One breadth-first search per verdict (not one per incident node): the nodes within
            // MaxHops of this one, either direction, then a set intersection.
            neighbourhood ??= _graph.Neighbourhood(node, _options.MaxHops);
            if (neighbourhood.Overlaps(active))
            {
                return incident;
            }
        }

        return null;
    }

    private void Forget(long cutoffMs)
    {
        while (_seenOrder.Count > 0 && _seenOrder.Peek().TimestampMs < cutoffMs)
        {
            _seen.Remove(_seenOrder.Dequeue());
        }

        if (_knownIds.Count > 0)
        {
            List<string>? old = null;
            foreach (var (id, first) in _knownIds)
            {
                if (first < cutoffMs && !_open.Exists(o => string.Equals(o.Id, id, StringComparison.Ordinal)))
                {
                    (old ??= []).Add(id);
                }
            }

            if (old is not null)
            {
                foreach (string id in old)
                {
                    _knownIds.Remove(id);
                }
            }
        }
    }

    /// <summary>
    /// Deterministic id: "inc-" + the first 16 hex digits of SHA-256 over
    /// "service|metric|labels|detector|floor(ts / IdBucketMs)".
    /// </summary>
    internal string IncidentId(Anomaly first)
    {
        long bucket = Math.DivRem(first.TimestampMs, _options.IdBucketMs, out long rem);
        if (rem < 0)
        {
            bucket--;
        }

        string text = string.Create(CultureInfo.InvariantCulture,
            $"{first.Series.Service}|{first.Series.Metric}|{first.Series.Labels}|{(int)first.Detector}|{bucket}");
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return "inc-" + Convert.ToHexStringLower(hash, 0, 8);
    }

    private sealed class OpenIncident
    {
        public OpenIncident(string id, long firstEvidenceMs)
        {
            Id = id;
            FirstEvidenceMs = firstEvidenceMs;
            LastEvidenceMs = firstEvidenceMs;
        }

        public string Id { get; }

        /// <summary>Reads an incident written by <see cref="Write"/>.</summary>
        public static OpenIncident Read(BinaryReader reader)
        {
            var incident = new OpenIncident(reader.ReadString(), reader.ReadInt64())
            {
                LastEvidenceMs = reader.ReadInt64(),
                OpenedMs = reader.ReadInt64(),
                Opened = reader.ReadBoolean(),
                Dirty = reader.ReadBoolean(),
                Fingerprint = reader.ReadString(),
                Symptom = reader.ReadString(),
            };
            int signals = StateFraming.ReadCount(reader, MaxEntries, "incident signal");
            for (int i = 0; i < signals; i++)
            {
                var signal = ReadSignal(reader);
                var key = (new SeriesKey(signal.Service, signal.Metric, signal.Labels), signal.Detector);
                if (!incident.Signals.TryAdd(key, signal))
                {
                    throw new InvalidDataException($"The {StateName} repeats signal {key.Item1} {key.Item2} in incident {incident.Id}.");
                }

                incident.SignalOrder.Add(key);
            }

            int timestamps = StateFraming.ReadCount(reader, MaxEntries, "evidence time");
            for (int i = 0; i < timestamps; i++)
            {
                incident.EvidenceTimestamps.Add(reader.ReadInt64());
            }

            var causes = new RootCauseCandidate[StateFraming.ReadCount(reader, MaxEntries, "root cause")];
            for (int i = 0; i < causes.Length; i++)
            {
                causes[i] = ReadCandidate(reader);
            }

            incident.RootCauses = causes;
            return incident;
        }

        /// <summary>Writes the incident: signals in arrival order (the order they are ranked and reported in), evidence times sorted.</summary>
        public void Write(BinaryWriter writer)
        {
            writer.Write(Id);
            writer.Write(FirstEvidenceMs);
            writer.Write(LastEvidenceMs);
            writer.Write(OpenedMs);
            writer.Write(Opened);
            writer.Write(Dirty);
            writer.Write(Fingerprint);
            writer.Write(Symptom);
            writer.Write(SignalOrder.Count);
            foreach (var key in SignalOrder)
            {
                WriteSignal(writer, Signals[key]);
            }

            var timestamps = new List<long>(EvidenceTimestamps);
            timestamps.Sort();
            writer.Write(timestamps.Count);
            foreach (long timestamp in timestamps)
            {
                writer.Write(timestamp);
            }

            writer.Write(RootCauses.Count);
            foreach (var candidate in RootCauses)
            {
                WriteCandidate(writer, candidate);
            }
        }

        public long FirstEvidenceMs { get; private set; }

        public long LastEvidenceMs { get; private set; }

        public long OpenedMs { get; set; }

        public bool Opened { get; set; }

        public bool Dirty { get; set; }

        public string Fingerprint { get; set; } = string.Empty;

        public string Symptom { get; set; } = string.Empty;


        public Dictionary<(SeriesKey Series, DetectorKind Detector), IncidentSignal> Signals { get; } = [];

        public List<(SeriesKey Series, DetectorKind Detector)> SignalOrder { get; } = [];

        /// <summary>Distinct verdict timestamps seen, up to the few the open gate needs.</summary>
        public HashSet<long> EvidenceTimestamps { get; } = [];

        public IReadOnlyList<RootCauseCandidate> RootCauses { get; set; } = [];

        public void Add(string node, Anomaly anomaly, IReadOnlyList<string> exemplars)
        {
            FirstEvidenceMs = Math.Min(FirstEvidenceMs, anomaly.TimestampMs);
            LastEvidenceMs = Math.Max(LastEvidenceMs, anomaly.TimestampMs);
            if (EvidenceTimestamps.Count < 8)
            {
                EvidenceTimestamps.Add(anomaly.TimestampMs);
            }

            Dirty = true;
            var key = (anomaly.Series, anomaly.Detector);
            if (Signals.TryGetValue(key, out var existing))
            {
                var ids = new List<string>(existing.ExemplarTraceIds);
                foreach (string id in exemplars)
                {
                    if (ids.Count < 5 && !ids.Contains(id))
                    {
                        ids.Add(id);
                    }
                }

                bool stronger = anomaly.Score > existing.Score;
                Signals[key] = existing with
                {
                    SinceMs = Math.Min(existing.SinceMs, anomaly.SinceMs),
                    FirstSeenMs = Math.Min(existing.FirstSeenMs, anomaly.TimestampMs),
                    LastSeenMs = Math.Max(existing.LastSeenMs, anomaly.TimestampMs),
                    Score = stronger ? anomaly.Score : existing.Score,
                    Observed = stronger ? anomaly.Observed : existing.Observed,
                    Expected = stronger ? anomaly.Expected : existing.Expected,
                    Detail = stronger ? anomaly.Detail : existing.Detail,
                    ExemplarTraceIds = ids,
                    Verdicts = existing.Verdicts + 1,
                };
                return;
            }

            var first = new List<string>();
            foreach (string id in exemplars)
            {
                if (first.Count < 5 && !first.Contains(id))
                {
                    first.Add(id);
                }
            }

            Signals.Add(key, new IncidentSignal
            {
                Node = node,
                Service = anomaly.Series.Service,
                Metric = anomaly.Series.Metric,
                Labels = anomaly.Series.Labels,
                Kind = anomaly.Kind,
                Detector = anomaly.Detector,
                Direction = anomaly.Direction,
                SinceMs = Math.Min(anomaly.SinceMs, anomaly.TimestampMs),
                FirstSeenMs = anomaly.TimestampMs,
                LastSeenMs = anomaly.TimestampMs,
                Score = anomaly.Score,
                Observed = anomaly.Observed,
                Expected = anomaly.Expected,
                Detail = anomaly.Detail,
                ExemplarTraceIds = first,
                Verdicts = 1,
            });
            SignalOrder.Add(key);
        }

        public bool Sustain(SeriesKey series, long timestampMs)
        {
            var found = false;
            foreach (var key in SignalOrder)
            {
                if (key.Series != series)
                {
                    continue;
                }

                var signal = Signals[key];
                if (timestampMs > signal.LastSeenMs)
                {
                    Signals[key] = signal with { LastSeenMs = timestampMs };
                }

                found = true;
            }

            if (found)
            {
                LastEvidenceMs = Math.Max(LastEvidenceMs, timestampMs);
                if (EvidenceTimestamps.Count < 8)
                {
                    EvidenceTimestamps.Add(timestampMs);
                }

                Dirty = true;
            }

            return found;
        }

        /// <summary>Signals with a verdict within <paramref name="ttlMs"/> of the latest evidence, in arrival order.</summary>
        public List<IncidentSignal> SignalList(long ttlMs)
        {
            long cutoff = LastEvidenceMs - ttlMs;
            var list = new List<IncidentSignal>(SignalOrder.Count);
            foreach (var key in SignalOrder)
            {
                var signal = Signals[key];
                if (signal.LastSeenMs >= cutoff)
                {
                    list.Add(signal);
                }
            }

            return list;
        }

        /// <summary>Nodes of the signals still active (see <see cref="SignalList(long)"/>).</summary>
        public SortedSet<string> ActiveNodes(long ttlMs) => ActiveNodesAt(LastEvidenceMs - ttlMs);

        /// <summary>Nodes of the signals with a verdict at or after <paramref name="cutoff"/>.</summary>
        public SortedSet<string> ActiveNodesAt(long cutoff)
        {
            var nodes = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var signal in Signals.Values)
            {
                if (signal.LastSeenMs >= cutoff)
                {
                    nodes.Add(signal.Node);
                }
            }

            return nodes;
        }

        public Incident Snapshot(IncidentState state, long? resolvedMs, long ttlMs)
        {
            var signals = SignalList(ttlMs);
            var nodes = ActiveNodes(ttlMs);
            string title = RootCauses.Count > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{Symptom} degraded ({nodes.Count} nodes, {signals.Count} signals); likely cause {RootCauses[0].Node}: {RootCauses[0].Remediation}")
                : string.Create(CultureInfo.InvariantCulture, $"{nodes.Count} nodes, {signals.Count} signals");
            return new Incident
            {
                Id = Id,
                State = state,
                Title = title,
                FirstEvidenceMs = FirstEvidenceMs,
                LastEvidenceMs = LastEvidenceMs,
                OpenedMs = OpenedMs,
                ResolvedMs = resolvedMs,
                Symptom = Symptom,
                Nodes = [.. nodes],
                Signals = signals,
                RootCauses = RootCauses,
            };
        }
    }
}
