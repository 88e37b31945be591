using Aiops.Core;
using Aiops.Ingestion;
using Aiops.Worker.Processing;

namespace Aiops.Worker.GenAi;

/// <summary>
/// The worker's processor with GenAI signals: each record's spans go to the wrapped processor,
/// then through the <see cref="GenAiFeed"/>, whose closed windows are processed as metric points.
/// The aggregator's open windows are not checkpointed: a restart loses at most the current
/// window (one minute by default) of GenAI points, never detector state.
/// </summary>
internal sealed class GenAiTelemetryProcessor : ITelemetryProcessor
{
    private readonly ITelemetryProcessor _inner;
    private readonly GenAiFeed _feed;

    public GenAiTelemetryProcessor(ITelemetryProcessor inner, GenAiFeed feed)
    {
        _inner = inner;
        _feed = feed;
    }

    /// <inheritdoc/>
    public long SeriesCount => _inner.SeriesCount;

    /// <inheritdoc/>
    public long EvictedSeries => _inner.EvictedSeries;

    /// <inheritdoc/>
    public long AnomalyCount => _inner.AnomalyCount;

    /// <inheritdoc/>
    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans) => Process(points, spans, []);

    /// <inheritdoc/>
    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans, IReadOnlyList<MetricExemplar> exemplars)
    {
        _inner.Process(points, spans, exemplars);
        if (spans.Count == 0)
        {
            return;
        }

        var closed = _feed.Collect(spans);
        if (closed.Count > 0)
        {
            _inner.Process(closed, []);
        }
    }

    /// <inheritdoc/>
    public void DrainIncidents(List<IncidentMessage> into) => _inner.DrainIncidents(into);

    /// <inheritdoc/>
    public void SaveState(Stream destination) => _inner.SaveState(destination);

    /// <inheritdoc/>
    public void RestoreState(Stream source) => _inner.RestoreState(source);
}
