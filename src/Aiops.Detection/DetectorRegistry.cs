using System.Text;
using Aiops.Core;

namespace Aiops.Detection;

/// <summary>
/// All series of a process: a <see cref="SeriesDetector"/> per <see cref="SeriesKey"/>, created
/// lazily from the profile of the point's <see cref="MetricKind"/> the first time the series is
/// seen, so the pipeline only pushes <see cref="MetricPoint"/>s. A cap on the number of series
/// (label explosions) rejects new series beyond it and counts them. Not thread-safe: partition
/// series across registries to use several cores.
/// </summary>
public sealed class DetectorRegistry
{
    private const uint Magic = 0x47455241; // "AREG"
    private const byte FormatVersion = 1;

    private readonly Dictionary<SeriesKey, SeriesDetector> _detectors = [];

    /// <summary>Creates a registry with the given profiles (built-in when null) and a series cap.</summary>
    public DetectorRegistry(ProfileSet? profiles = null, int maxSeries = 1_000_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSeries);
        Profiles = profiles ?? ProfileSet.BuiltIn;
        MaxSeries = maxSeries;
    }

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
                RejectedNewSeries++;
                return new DetectionResult { TimestampMs = point.TimestampMs, Observed = point.Value, PValue = 1, Status = PointStatus.SeriesLimit };
            }

            detector = new SeriesDetector(point.Series, point.Kind, Profiles.For(point.Kind));
            _detectors.Add(point.Series, detector);
        }

        return detector.Update(point.TimestampMs, point.Value, point.Total, verdicts);
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

        foreach (var d in _detectors.Values)
        {
            d.Save(stream);
        }
    }

    /// <summary>Restores a registry written by <see cref="Save"/>; new series will use <paramref name="profiles"/>.</summary>
    public static DetectorRegistry Load(Stream stream, ProfileSet? profiles = null, int maxSeries = 1_000_000)
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

        var registry = new DetectorRegistry(profiles, Math.Max(maxSeries, count)) { RejectedNewSeries = rejected };
        for (var i = 0; i < count; i++)
        {
            var d = SeriesDetector.Load(stream);
            registry._detectors[d.Series] = d;
        }

        return registry;
    }
}
