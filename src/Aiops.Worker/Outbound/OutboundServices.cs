using Aiops.Redaction;
using Aiops.Worker.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Outbound;

/// <summary>
/// Registers what guards the worker's exits (<see cref="OutboundRedaction"/>, section
/// <c>Redaction</c>) and reads the same configuration for <c>aiops replay</c>, which runs without
/// a host. Configured lists (<c>Redaction:AllowedKeys</c>, <c>DeniedKeys</c>, <c>CustomPatterns</c>)
/// add to the defaults: the configuration binder appends to a pre-filled list.
/// </summary>
internal static class OutboundServices
{
    /// <summary>Binds and validates the <c>Redaction</c> section (a bad custom pattern fails at start) and registers the gate.</summary>
    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RedactionOptions>().Bind(configuration.GetSection(RedactionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RedactionOptions>, RedactionOptionsValidator>();
        services.AddSingleton<OutboundRedaction>();
    }

    /// <summary>
    /// The worker's configuration sources without a host: <c>appsettings.json</c> beside the
    /// executable, then in the working directory, then <c>AIOPS_</c> environment variables (as
    /// <see cref="WorkerHost"/> reads them).
    /// </summary>
    public static IConfiguration LoadConfiguration() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
        .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true, reloadOnChange: false)
        .AddEnvironmentVariables(WorkerHost.EnvironmentPrefix)
        .Build();

    /// <summary>The gate as <c>aiops replay</c> configures it.</summary>
    public static OutboundRedaction RedactionFrom(IConfiguration configuration)
    {
        var options = new RedactionOptions();
        configuration.GetSection(RedactionOptions.Section).Bind(options);
        return new OutboundRedaction(options);
    }

    /// <summary>Builds a <see cref="Redactor"/> to validate: its constructor compiles the custom patterns.</summary>
    private sealed class RedactionOptionsValidator : IValidateOptions<RedactionOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedactionOptions options)
        {
            try
            {
                _ = new Redactor(options);
                return Enum.IsDefined(options.DeadLetterPayload)
                    ? ValidateOptionsResult.Success
                    : ValidateOptionsResult.Fail($"Redaction:DeadLetterPayload: must be one of {string.Join(", ", Enum.GetNames<DeadLetterPayloadMode>())}.");
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message);
            }
        }
    }
}
