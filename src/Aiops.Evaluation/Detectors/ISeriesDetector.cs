using Aiops.Core;

namespace Aiops.Evaluation.Detectors;

/// <summary>What a detector said about one point.</summary>
/// <param name="Score">Anomaly score in [0, 1] (0 while the detector is still warming up).</param>
/// <param name="Verdict">The verdict raised at this point, if any.</param>
internal readonly record struct DetectorOutput(double Score, Anomaly? Verdict);

/// <summary>
/// The evaluation harness's view of a streaming detector for one series: points go in, in
/// event-time order, one output per point comes back. Keeping the harness behind this seam lets
/// the scorer and the result writers be tested with tiny hand-made detectors, while the shipped
/// commands use <see cref="ProductDetectorFactory"/> (the product's detection engine).
/// </summary>
internal interface ISeriesDetector
{
    /// <summary>Feeds one point and returns the detector's output for it; uses no later point.</summary>
    DetectorOutput Observe(in MetricPoint point);
}

/// <summary>Creates one <see cref="ISeriesDetector"/> per series.</summary>
internal interface IDetectorFactory
{
    /// <summary>Name written into results (NAB forbids '_' and '.' in it).</summary>
    string Name { get; }

    /// <summary>A fresh detector for one series.</summary>
    /// <param name="series">The series.</param>
    /// <param name="kind">What it measures (selects the profile).</param>
    /// <param name="capacity">The resource limit of a saturation series, when known (time-to-exhaustion).</param>
    ISeriesDetector Create(SeriesKey series, MetricKind kind, double? capacity = null);
}
