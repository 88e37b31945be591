using Aiops.Core;
using Aiops.Worker.Options;

namespace Aiops.Worker.Processing;

/// <summary>Receives what a decoder read from one record.</summary>
internal interface ITelemetrySink
{
    /// <summary>One metric point.</summary>
    void OnMetric(in MetricPoint point);

    /// <summary>One span.</summary>
    void OnSpan(in SpanRecord span);
}

/// <summary>
/// The outcome of decoding one record. A failed record is sent whole to the dead-letter topic, so
/// <see cref="ErrorKind"/> is a short stable word (counted, logged once per kind) and
/// <see cref="Reason"/> the sentence for the header.
/// </summary>
internal readonly record struct DecodeOutcome(bool Success, string? ErrorKind, string? Reason)
{
    /// <summary>The record was read completely.</summary>
    public static DecodeOutcome Ok => new(true, null, null);

    /// <summary>The record could not be read.</summary>
    public static DecodeOutcome Fail(string kind, string reason) => new(false, kind, reason);
}

/// <summary>
/// Turns a Kafka record's bytes into metric points and spans. The worker adapts the ingestion
/// library behind this seam, so the consume/commit/dead-letter plumbing is tested on its own.
/// </summary>
internal interface ITelemetryDecoder
{
    /// <summary>Decodes <paramref name="payload"/>; on failure nothing already given to <paramref name="sink"/> may be used.</summary>
    DecodeOutcome Decode(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload, ITelemetrySink sink);
}

/// <summary>
/// The detection + topology core as the worker drives it: feed decoded telemetry in event time,
/// collect incident events, save and restore state.
/// </summary>
internal interface ITelemetryProcessor
{
    /// <summary>Feeds the points and spans of one record, in the order they were read.</summary>
    void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans);

    /// <summary>Moves the incident events produced so far into <paramref name="into"/>.</summary>
    void DrainIncidents(List<IncidentMessage> into);

    /// <summary>Number of series with detector state.</summary>
    long SeriesCount { get; }

    /// <summary>Anomaly verdicts emitted so far.</summary>
    long AnomalyCount { get; }

    /// <summary>Serialises the whole state (detectors, graph, open incidents).</summary>
    void SaveState(Stream destination);

    /// <summary>Replaces the state with one saved by <see cref="SaveState"/>.</summary>
    void RestoreState(Stream source);
}
