using Aiops.Pipeline;
using Aiops.Worker.Processing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.GenAi;

/// <summary>Registers the production processor with its GenAI signals (section <c>GenAI</c>).</summary>
internal static class GenAiServices
{
    /// <summary>
    /// The pipeline processor wrapped in <see cref="GenAiTelemetryProcessor"/>. The feed reads the
    /// <c>GenAI</c> section when first resolved; a bad price table fails then, with its reason.
    /// </summary>
    public static void AddProcessor(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<PipelineProcessor>();
        services.AddSingleton(static sp => GenAiFeed.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<ITelemetryProcessor>(static sp => new GenAiTelemetryProcessor(sp.GetRequiredService<PipelineProcessor>(), sp.GetRequiredService<GenAiFeed>()));
    }
}
