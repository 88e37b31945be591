using Aiops.Detection;
using Aiops.Pipeline;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Hosting;

/// <summary>Registers the production decoder and processor (ingestion + pipeline adapters, with the GenAI signals).</summary>
internal static class CoreServices
{
    public static void Register(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(static sp => new EventTimePipeline(PipelineOptionsFor(sp.GetRequiredService<IOptions<LimitsOptions>>().Value)));
        GenAi.GenAiServices.AddProcessor(services);
        services.AddSingleton<ITelemetryDecoder, IngestionDecoder>();
    }

    /// <summary>
    /// The pipeline settings the worker runs with: the core's defaults, except that the series cap
    /// comes from <see cref="LimitsOptions.MaxSeries"/> and evicts the least recently seen series
    /// (a long-running worker sees pods come and go; rejecting new series would freeze it on dead ones).
    /// </summary>
    public static PipelineOptions PipelineOptionsFor(LimitsOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new PipelineOptions
        {
            MaxSeries = limits.MaxSeries,
            SeriesLimitPolicy = SeriesLimitPolicy.EvictLeastRecentlySeen,
        };
    }
}
