using Aiops.Detection;
using Aiops.Pipeline;
using Aiops.Topology;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Hosting;

/// <summary>Registers the production decoder and processor (ingestion + pipeline adapters, with the GenAI signals).</summary>
internal static class CoreServices
{
    public static void Register(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(static sp => new EventTimePipeline(PipelineOptionsFor(sp.GetRequiredService<IOptions<LimitsOptions>>().Value, sp.GetRequiredService<IOptions<SloOptions>>().Value)));
        GenAi.GenAiServices.AddProcessor(services);
        services.AddSingleton<ITelemetryDecoder, IngestionDecoder>();

        // Repartition:Enabled: the settings of every stage the router creates.
        services.AddSingleton<Func<PipelineOptions>>(static sp =>
        {
            var limits = sp.GetRequiredService<IOptions<LimitsOptions>>().Value;
            var slo = sp.GetRequiredService<IOptions<SloOptions>>().Value;
            return () => PipelineOptionsFor(limits, slo);
        });

        // Checkpoint:Scope=Partition: a fresh pipeline (with its own GenAI feed) per assigned partition.
        services.AddSingleton<Func<ITelemetryProcessor>>(static sp =>
        {
            var limits = sp.GetRequiredService<IOptions<LimitsOptions>>().Value;
            var slo = sp.GetRequiredService<IOptions<SloOptions>>().Value;
            var configuration = sp.GetRequiredService<IConfiguration>();
            return () => new GenAi.GenAiTelemetryProcessor(new PipelineProcessor(new EventTimePipeline(PipelineOptionsFor(limits, slo))), GenAi.GenAiFeed.FromConfiguration(configuration));
        });
    }

    /// <summary>
    /// The pipeline settings the worker runs with: the core's defaults, except that the series cap
    /// comes from <see cref="LimitsOptions.MaxSeries"/> and evicts the least recently seen series
    /// (a long-running worker sees pods come and go; rejecting new series would freeze it on dead ones),
    /// and the SLOs come from the <c>Pipeline:Slo</c> section (none when null or unset).
    /// </summary>
    public static PipelineOptions PipelineOptionsFor(LimitsOptions limits, SloOptions? slo = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return new PipelineOptions
        {
            MaxSeries = limits.MaxSeries,
            SeriesLimitPolicy = SeriesLimitPolicy.EvictLeastRecentlySeen,
            Slo = slo ?? new SloOptions(),
        };
    }
}
