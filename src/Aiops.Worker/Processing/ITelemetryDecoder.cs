using Aiops.Core;
using Aiops.Ingestion;
using Aiops.Worker.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// The outcome of decoding one record. A failed record is sent whole to the dead-letter topic, so
/// <see cref="ErrorKind"/> is a short stable word (counted, logged once per kind) and
/// <see cref="Reason"/> the sentence for the header.
/// </summary>
/// <remarks>
/// <see cref="Partial"/>: the decoder kept the good points around a bad one (ingestion's decoders
/// skip a broken data point and continue with its siblings). Those points are processed; the record
/// still goes to the dead-letter topic so the loss is visible, with <c>aiops.error.partial=true</c>.
/// </remarks>
internal readonly record struct DecodeOutcome(bool Success, string? ErrorKind, string? Reason, bool Partial = false)
{
    /// <summary>The record was read completely.</summary>
    public static DecodeOutcome Ok => new(true, null, null);

    /// <summary>The record could not be read (or only partly: <paramref name="partial"/>).</summary>
    public static DecodeOutcome Fail(string kind, string reason, bool partial = false) => new(false, kind, reason, partial);
}

/// <summary>
/// Turns a Kafka record's bytes into metric points and spans. The worker adapts the ingestion
/// library behind this seam, so the consume/commit/dead-letter plumbing is tested on its own.
/// </summary>
internal interface ITelemetryDecoder
{
    /// <summary>Decodes <paramref name="payload"/> into <paramref name="batch"/> (cleared by the caller): good items and errors side by side.</summary>
    void Decode(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload, DecodeBatch batch);
}

/// <summary>
/// The detection + topology core as the worker drives it: feed decoded telemetry in event time,
/// collect incident events, save and restore state.
/// </summary>
internal interface ITelemetryProcessor
{
    /// <summary>Feeds the points and spans of one record, in the order they were read.</summary>
    void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans);

    /// <summary>
    /// As <see cref="Process(IReadOnlyList{MetricPoint}, IReadOnlyList{SpanRecord})"/>, with the
    /// exemplars found on the record's metric data points (OTLP), fed before the points so a
    /// verdict on a point can carry its trace ids. The default drops the exemplars: only for
    /// processors with no use for them (test doubles); the pipeline's and every decorator override it.
    /// </summary>
    void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans, IReadOnlyList<MetricExemplar> exemplars) => Process(points, spans);

    /// <summary>Moves the incident events produced so far into <paramref name="into"/>.</summary>
    void DrainIncidents(List<IncidentMessage> into);

    /// <summary>Number of series with detector state.</summary>
    long SeriesCount { get; }

    /// <summary>Series dropped (least recently seen first) to stay under the series cap.</summary>
    long EvictedSeries { get; }

    /// <summary>Anomaly verdicts emitted so far.</summary>
    long AnomalyCount { get; }

    /// <summary>Serialises the whole state (detectors, graph, open incidents).</summary>
    void SaveState(Stream destination);

    /// <summary>Replaces the state with one saved by <see cref="SaveState"/>.</summary>
    void RestoreState(Stream source);
}
