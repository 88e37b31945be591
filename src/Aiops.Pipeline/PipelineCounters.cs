namespace Aiops.Pipeline;

/// <summary>
/// Running totals of what the pipeline has processed. The worker exposes them as its own metrics;
/// the evaluation prints them per case.
/// </summary>
/// <param name="Spans">Spans accepted.</param>
/// <param name="Points">Metric points fed to the detectors (resource points plus selected RED points).</param>
/// <param name="Series">Distinct series with detector state.</param>
/// <param name="Anomalies">Anomaly verdicts raised by the detectors.</param>
/// <param name="Incidents">Incidents opened.</param>
/// <param name="Rejected">Records rejected as bad input (NaN/Inf values, end before start, empty names or ids, series over the cap).</param>
public readonly record struct PipelineCounters(
    long Spans,
    long Points,
    long Series,
    long Anomalies,
    long Incidents,
    long Rejected);
