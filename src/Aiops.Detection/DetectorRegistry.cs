using System.Text;
using Aiops.Core;

namespace Aiops.Detection;

/// <summary>
/// All series of a process: a <see cref="SeriesDetector"/> per <see cref="SeriesKey"/>, created
/// lazily from the profile of the point's <see cref="MetricKind"/> the first time the series is
/// seen, so the pipeline only pushes <see cref="MetricPoint"/>s. A cap on the number of series
/// (label explosions) either rejects new series beyond it or evicts the least recently seen one
/// (<see cref="SeriesLimitPolicy"/>), counting both. Not thread-safe: partition series across
/// registries to use several cores.
/// </summary>
public sealed class DetectorRegistry
{
    private const uint Magic = 0x47455241; // "AREG"
    private const byte FormatVersion = 1;

    private readonly Dictionary<SeriesKey, SeriesDetector> _detectors = [];

    // Recency order for SeriesLimitPolicy.EvictLeastRecentlySeen only: most recently seen first.
    // One node per series, allocated when the series is created and moved (not reallocated) on
    // every point, so the policy costs one extra lookup and two pointer moves per point.
    private readonly LinkedList<SeriesKey>? _recency;
    private readonly Dictionary<SeriesKey, LinkedListNode<SeriesKey>>? _recencyNodes;

    /// <summary>Creates a registry with the given profiles (built-in when null), a series cap and what happens at the cap.</summary>
    public DetectorRegistry(ProfileSet? profiles = null, int maxSeries = 1_000_000, SeriesLimitPolicy policy = SeriesLimitPolicy.RejectNew)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSeries);
        Profiles = profiles ?? ProfileSet.BuiltIn;
        MaxSeries = maxSeries;
        Policy = policy;
        if (policy == SeriesLimitPolicy.EvictLeastRecentlySeen)
        {
            _recency = new LinkedList<SeriesKey>();
            _recencyNodes = [];
        }
    }

    /// <summary>What a point of a new series does when <see cref="MaxSeries"/> series exist.</summary>
    public SeriesLimitPolicy Policy { get; }

    /// <summary>Series dropped (with their learned state) to make room for new ones under <see cref="SeriesLimitPolicy.EvictLeastRecentlySeen"/>.</summary>
    public long EvictedSeries { get; private set; }

    /// <summary>Profiles new detectors are built from.</summary>
    public ProfileSet Profiles { get; }

    /// <summary>Maximum number of series; points of new series beyond it are counted in <see cref="RejectedNewSeries"/>.</summary>
    public int MaxSeries { get; }

    /// <summary>Number of series tracked.</summary>
    public int Count => _detectors.Count;

    /// <summary>Points dropped because their series would exceed <see cref="MaxSeries"/>.</summary>
    public long RejectedNewSeries { get; private set; }

    /// <summary>The detectors, for inspection and counters.</summary>
    public IReadOnlyDictionary<SeriesKey, SeriesDetector> Detectors => _detectors;

    /// <summary>Feeds a point to its series' detector (creating it if new); verdicts, if any, are appended to <paramref name="verdicts"/>.</summary>
    /// <returns>The detector's result, or a result with <see cref="PointStatus.SeriesLimit"/> if the series could not be created.</returns>
    public DetectionResult Push(in MetricPoint point, List<Anomaly>? verdicts = null)
    {
        if (!_detectors.TryGetValue(point.Series, out var detector))
        {
            if (_detectors.Count >= MaxSeries)
            {
                if (_recency is null)
                {
                    RejectedNewSeries++;
                    return new DetectionResult { TimestampMs = point.TimestampMs, Observed = point.Value, PValue = 1, Status = PointStatus.SeriesLimit };
                }

                EvictLeastRecentlySeen();
            }

            detector = new SeriesDetector(point.Series, point.Kind, Profiles.For(point.Kind));
            _detectors.Add(point.Series, detector);
            Touch(point.Series, created: true);
        }
        else if (_recency is not null)
        {
            Touch(point.Series, created: false);
        }

        return detector.Update(point.TimestampMs, point.Value, point.Total, verdicts);
    }

    /// <summary>Marks <paramref name="series"/> as the most recently seen (LRU policy only).</summary>
    private void Touch(SeriesKey series, bool created)
    {
        if (_recency is null)
        {
            return;
        }

        if (created)
        {
            _recencyNodes!.Add(series, _recency.AddFirst(series));
            return;
        }

        var node = _recencyNodes![series];
        if (!ReferenceEquals(node, _recency.First))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
        }
    }

    private void EvictLeastRecentlySeen()
    {
        var oldest = _recency!.Last!;
        _recency.RemoveLast();
        _recencyNodes!.Remove(oldest.Value);
        _detectors.Remove(oldest.Value);
        EvictedSeries++;
    }

    /// <summary>Writes every series' snapshot (magic "AREG", version, count, then each detector's snapshot).</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write(_detectors.Count);
            w.Write(RejectedNewSeries);
        }

        if (_recency is null)
        {
            foreach (var d in _detectors.Values)
            {
                d.Save(stream);
            }

            return;
        }

        // Least recently seen first: Load re-adds them in order, each becoming the most recent,
        // so the restored registry evicts in the same order the saved one would have.
        for (var node = _recency.Last; node is not null; node = node.Previous)
        {
            _detectors[node.Value].Save(stream);
        }
    }

    /// <summary>Restores a registry written by <see cref="Save"/>; new series will use <paramref name="profiles"/>.</summary>
    public static DetectorRegistry Load(Stream stream, ProfileSet? profiles = null, int maxSeries = 1_000_000, SeriesLimitPolicy policy = SeriesLimitPolicy.RejectNew)
    {
        ArgumentNullException.ThrowIfNull(stream);
        int count;
        long rejected;
        using (var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true))
        {
            try
            {
                var magic = r.ReadUInt32();
                if (magic != Magic)
                {
                    throw new InvalidDataException($"Not a detector registry snapshot: magic 0x{magic:X8}, expected 0x{Magic:X8}.");
                }

                var version = r.ReadByte();
                if (version != FormatVersion)
                {
                    throw new InvalidDataException($"Detector registry snapshot version {version} is not supported (this build reads version {FormatVersion}).");
                }

                count = r.ReadInt32();
                rejected = r.ReadInt64();
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException("Detector registry snapshot is truncated.", e);
            }
        }

        if (count < 0)
        {
            throw new InvalidDataException($"Detector registry snapshot field count is negative ({count}).");
        }

        var registry = new DetectorRegistry(profiles, Math.Max(maxSeries, count), policy) { RejectedNewSeries = rejected };
        for (var i = 0; i < count; i++)
        {
            var d = SeriesDetector.Load(stream);
            var isNew = registry._detectors.TryAdd(d.Series, d);
            if (!isNew)
            {
                registry._detectors[d.Series] = d;
            }

            registry.Touch(d.Series, created: isNew);
        }

        return registry;
    }
}

/// <summary>What <see cref="DetectorRegistry"/> does with a point of a new series once it holds <see cref="DetectorRegistry.MaxSeries"/> series.</summary>
public enum SeriesLimitPolicy
{
    /// <summary>The new series is not created; its points are counted in <see cref="DetectorRegistry.RejectedNewSeries"/>. Established baselines are never lost.</summary>
    RejectNew = 0,

    /// <summary>
    /// The series seen least recently (in arrival order) is dropped with its state and counted in
    /// <see cref="DetectorRegistry.EvictedSeries"/>: a workload whose series churn (pods replaced,
    /// deployments rolled) keeps detecting on the live ones instead of freezing at the cap.
    /// </summary>
    EvictLeastRecentlySeen = 1,
}
