using Aiops.Core;
using Aiops.Detection;

namespace Aiops.Evaluation.Detectors;

/// <summary>
/// The product's detection engine (<see cref="SeriesDetector"/> from <c>Aiops.Detection</c>) behind
/// the harness's <see cref="IDetectorFactory"/> seam: every evaluation command runs exactly the
/// code the worker runs, with the profile the worker would pick for the series' metric kind.
/// </summary>
/// <param name="profiles">Profiles per metric kind (built-in defaults, or loaded from <c>models/profiles</c>).</param>
internal sealed class ProductDetectorFactory(ProfileSet profiles) : IDetectorFactory
{
    /// <inheritdoc/>
    public string Name => "aiops";

    /// <summary>Builds the factory from a profile directory, or the built-in profiles when none is given.</summary>
    /// <exception cref="ProfileValidationException">A profile file is missing, unreadable or invalid.</exception>
    public static ProductDetectorFactory FromDirectory(string? profileDirectory) =>
        new(profileDirectory is null ? ProfileSet.BuiltIn : ProfileLoader.LoadDirectory(profileDirectory));

    /// <inheritdoc/>
    public ISeriesDetector Create(SeriesKey series, MetricKind kind, double? capacity = null)
    {
        var profile = profiles.For(kind);
        if (capacity is not null)
        {
            profile = profile with { Capacity = capacity };
        }

        return new Adapter(new SeriesDetector(series, kind, profile));
    }

    private sealed class Adapter(SeriesDetector detector) : ISeriesDetector
    {
        // One list per series, cleared per point: no allocation unless a verdict is raised.
        private readonly List<Anomaly> _verdicts = [];

        public DetectorOutput Observe(in MetricPoint point)
        {
            _verdicts.Clear();
            var result = detector.Update(point.TimestampMs, point.Value, point.Total, _verdicts);
            var score = result.IsWarm ? result.Score : 0.0;
            return new DetectorOutput(score, _verdicts.Count > 0 ? _verdicts[0] : null);
        }
    }
}
