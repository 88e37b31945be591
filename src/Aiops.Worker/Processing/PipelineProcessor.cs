using System.Globalization;
using Aiops.Core;
using Aiops.Ingestion;
using Aiops.Pipeline;

namespace Aiops.Worker.Processing;

/// <summary>
/// Adapts the <see cref="EventTimePipeline"/> (the same core <c>replay</c> and the evaluation
/// drive) to the worker, and maps its <see cref="IncidentEvent"/>s onto the published
/// <see cref="IncidentMessage"/> contract.
/// </summary>
internal sealed class PipelineProcessor : ITelemetryProcessor
{
    /// <summary>At most this many anomalies are copied into one message: keeps a message well under Kafka's 1 MB default.</summary>
    internal const int MaxAnomaliesPerMessage = 50;

    private readonly EventTimePipeline _pipeline;

    public PipelineProcessor(EventTimePipeline pipeline) => _pipeline = pipeline;

    /// <summary>The wrapped pipeline.</summary>
    public EventTimePipeline Pipeline => _pipeline;

    /// <inheritdoc/>
    public long SeriesCount => _pipeline.Counters.Series;

    /// <inheritdoc/>
    public long EvictedSeries => _pipeline.Detectors.EvictedSeries;

    /// <inheritdoc/>
    public long AnomalyCount => _pipeline.Counters.Anomalies;

    /// <inheritdoc/>
    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans) => Process(points, spans, []);

    /// <inheritdoc/>
    public void Process(IReadOnlyList<MetricPoint> points, IReadOnlyList<SpanRecord> spans, IReadOnlyList<MetricExemplar> exemplars)
    {
        for (var i = 0; i < exemplars.Count; i++)
        {
            var e = exemplars[i];
            _pipeline.AddExemplar(e.Series, e.TimestampMs, e.TraceId);
        }

        for (var i = 0; i < spans.Count; i++)
        {
            _pipeline.AddSpan(spans[i]);
        }

        for (var i = 0; i < points.Count; i++)
        {
            _pipeline.AddMetric(points[i]);
        }
    }

    /// <inheritdoc/>
    public void DrainIncidents(List<IncidentMessage> into)
    {
        foreach (var e in _pipeline.TakeEvents())
        {
            into.Add(ToMessage(e));
        }
    }

    /// <inheritdoc/>
    public void SaveState(Stream destination) => _pipeline.WriteSnapshot(destination);

    /// <inheritdoc/>
    public void RestoreState(Stream source) => _pipeline.RestoreSnapshot(source);

    /// <summary>Maps a pipeline event onto the topic contract.</summary>
    public static IncidentMessage ToMessage(IncidentEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var causes = new List<RootCauseMessage>(e.RootCauses.Count);
        foreach (var c in e.RootCauses)
        {
            causes.Add(new RootCauseMessage
            {
                Rank = c.Rank,
                Service = c.Node,
                Score = c.Score,
                OnsetMs = c.OnsetMs,
                Evidence = [.. c.Evidence.Select(Describe)],
                Path = c.Path,
                ExemplarTraceIds = c.ExemplarTraceIds,
                Hint = c.Hint,
            });
        }

        var anomalies = e.Anomalies.OrderByDescending(static a => a.Score).Take(MaxAnomaliesPerMessage).Select(static a => new AnomalyMessage
        {
            Service = a.Series.Service,
            Metric = a.Series.Metric,
            Labels = a.Series.Labels,
            Detector = a.Detector.ToString(),
            TimestampMs = a.TimestampMs,
            Observed = a.Observed,
            Expected = a.Expected,
            Lower = a.Lower,
            Upper = a.Upper,
            PValue = a.PValue,
            Score = a.Score,
            Direction = a.Direction switch { Direction.Up => "up", Direction.Down => "down", _ => "none" },
            Detail = a.Detail,
        }).ToList();

        return new IncidentMessage
        {
            IncidentId = e.IncidentId,
            Event = e.Kind switch { IncidentEventKind.Open => "open", IncidentEventKind.Update => "update", _ => "resolve" },
            EventTimeMs = e.TimestampMs,
            OpenedAtMs = e.OpenedAtMs,
            ResolvedAtMs = e.ResolvedAtMs,
            Symptom = e.Summary,
            Services = e.AffectedNodes,
            RootCauses = causes,
            Anomalies = anomalies,
            RemediationHint = causes.Count > 0 ? causes[0].Hint : null,
        };
    }

    /// <summary>One evidence sentence: "checkout/http.server.duration.p99 Spike: observed 812 vs expected 120 [90, 150], p=1e-06".</summary>
    internal static string Describe(Anomaly a) =>
        string.Create(CultureInfo.InvariantCulture, $"{a.Series} {a.Detector}: observed {a.Observed:G4} vs expected {a.Expected:G4} [{a.Lower:G4}, {a.Upper:G4}], p={a.PValue:G2}");
}
