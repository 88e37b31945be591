using Aiops.Topology;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>
/// Binds the <c>Pipeline:Slo</c> section (service level objectives and burn-rate rules, see
/// <see cref="SloOptions"/>) and validates it at start, each failure naming its configuration key.
/// </summary>
internal static class SloOptionsSetup
{
    /// <summary>The configuration section, e.g. <c>Pipeline:Slo:Objectives:0:Service</c> or <c>AIOPS_Pipeline__Slo__Objectives__0__Service</c>.</summary>
    public const string Section = "Pipeline:Slo";

    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SloOptions>()
            .Configure(options =>
            {
                var section = configuration.GetSection(Section);
                // The binder appends list items to a list's defaults; rules set in configuration
                // replace the three default rules instead of adding to them.
                if (section.GetSection(nameof(SloOptions.Rules)).Exists())
                {
                    options.Rules.Clear();
                }

                section.Bind(options);
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SloOptions>, Validator>();
    }

    private sealed class Validator : IValidateOptions<SloOptions>
    {
        public ValidateOptionsResult Validate(string? name, SloOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                // ArgumentException appends " (Parameter 'x')" to Message; the key says it better.
                var reason = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
                return ValidateOptionsResult.Fail($"{Section}:{e.ParamName ?? "?"}: {reason}");
            }
        }
    }
}
