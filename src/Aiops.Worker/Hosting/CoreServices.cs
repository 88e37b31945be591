using Aiops.Pipeline;
using Aiops.Worker.Processing;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.Hosting;

/// <summary>Registers the production decoder and processor (ingestion + pipeline adapters, with the GenAI signals).</summary>
internal static class CoreServices
{
    public static void Register(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(static _ => new EventTimePipeline());
        GenAi.GenAiServices.AddProcessor(services);
        services.AddSingleton<ITelemetryDecoder, IngestionDecoder>();
    }
}
