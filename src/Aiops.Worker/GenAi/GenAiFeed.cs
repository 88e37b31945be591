using Aiops.Core;
using Aiops.GenAI;
using Aiops.Pipeline;
using Microsoft.Extensions.Configuration;

namespace Aiops.Worker.GenAi;

/// <summary>
/// Turns GenAI spans into metric series for the detectors: every span also goes through a
/// <see cref="GenAiSignalAggregator"/>, and the points of each window it closes (time to first
/// token P95, output tokens/s, cost per request, error rate, request rate per service, model and
/// prompt variant) are fed to the pipeline like any resource metric, so an LLM regression opens an
/// incident the way a CPU step does. The points are stamped with their window's end, at most one
/// window plus the allowed lateness behind the span that closed it. Not thread-safe (one per pipeline).
/// </summary>
internal sealed class GenAiFeed
{
    private readonly List<MetricPoint> _points = new(16);

    public GenAiFeed(GenAiOptions options, GenAiPriceTable prices) => Aggregator = new GenAiSignalAggregator(options, prices);

    /// <summary>The aggregator (counters, and the variant study the replay report compares).</summary>
    public GenAiSignalAggregator Aggregator { get; }

    /// <summary>Builds the feed from the <c>GenAI</c> section; a missing price table means no cost series.</summary>
    public static GenAiFeed FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new GenAiOptions();
        configuration.GetSection(GenAiOptions.Section).Bind(options);
        return new GenAiFeed(options, LoadPrices(options.PriceTablePath));
    }

    /// <summary>
    /// The price table at <paramref name="path"/> (absolute, or relative to the working directory,
    /// then to the executable's directory); empty when neither exists.
    /// </summary>
    /// <exception cref="FormatException">The file exists but is not a price table.</exception>
    public static GenAiPriceTable LoadPrices(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var candidate in new[] { Path.GetFullPath(path), Path.Combine(AppContext.BaseDirectory, path) })
        {
            if (File.Exists(candidate))
            {
                return GenAiPriceTable.Load(candidate);
            }
        }

        return new GenAiPriceTable([]);
    }

    /// <summary>Aggregates <paramref name="span"/> (after the caller fed it to the pipeline) and feeds the points it closes.</summary>
    public void Add(in SpanRecord span, EventTimePipeline pipeline)
    {
        Aggregator.Add(span, _points);
        Drain(pipeline);
    }

    /// <summary>Emits every open window (end of a replay) into the pipeline; call before <see cref="EventTimePipeline.Flush"/>.</summary>
    public void Flush(EventTimePipeline pipeline)
    {
        Aggregator.Flush(_points);
        Drain(pipeline);
    }

    /// <summary>Aggregates the spans of one record and returns the points they close (valid until the next call).</summary>
    public List<MetricPoint> Collect(IReadOnlyList<SpanRecord> spans)
    {
        _points.Clear();
        for (var i = 0; i < spans.Count; i++)
        {
            Aggregator.Add(spans[i], _points);
        }

        return _points;
    }

    private void Drain(EventTimePipeline pipeline)
    {
        for (var i = 0; i < _points.Count; i++)
        {
            pipeline.AddMetric(_points[i]);
        }

        _points.Clear();
    }
}
