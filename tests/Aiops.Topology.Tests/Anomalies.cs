using Aiops.Core;

namespace Aiops.Topology.Tests;

/// <summary>Builds verdicts and signals for correlator and ranking tests.</summary>
internal static class Anomalies
{
    public static Anomaly Make(
        string service,
        string metric,
        MetricKind kind,
        long timestampMs,
        double score,
        long? sinceMs = null,
        string labels = "",
        DetectorKind detector = DetectorKind.Spike,
        Direction direction = Direction.Up,
        double observed = 1,
        IReadOnlyList<string>? exemplars = null) => new()
        {
            Series = new SeriesKey(service, metric, labels),
            Kind = kind,
            Detector = detector,
            TimestampMs = timestampMs,
            SinceMs = sinceMs ?? timestampMs,
            Observed = observed,
            Expected = 0,
            Lower = 0,
            Upper = 0,
            PValue = 1 - score,
            Score = score,
            Direction = direction,
            ExemplarTraceIds = exemplars ?? [],
        };

    public static IncidentSignal Signal(
        string node,
        MetricKind kind,
        double score,
        long sinceMs,
        string metric = "latency.p99",
        string labels = "",
        Direction direction = Direction.Up,
        DetectorKind detector = DetectorKind.Spike,
        double observed = 1) => new()
        {
            Node = node,
            Service = node,
            Metric = metric,
            Labels = labels,
            Kind = kind,
            Detector = detector,
            Direction = direction,
            SinceMs = sinceMs,
            LastSeenMs = sinceMs,
            Score = score,
            Observed = observed,
        };
}
