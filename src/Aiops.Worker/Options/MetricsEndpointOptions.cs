using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>The worker's own Prometheus endpoint (<c>/metrics</c>) and health endpoint (<c>/healthz</c>).</summary>
public sealed class MetricsEndpointOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Metrics";

    /// <summary>Whether the endpoint is served.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Address to listen on; loopback by default so nothing is exposed by accident.</summary>
    [Required]
    [MinLength(1)]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 9464 is the port OpenTelemetry's Prometheus exporter uses by default. 0 picks a free port.</summary>
    [Range(0, 65_535)]
    public int Port { get; set; } = 9464;
}

/// <summary>Source-generated validator for <see cref="MetricsEndpointOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class MetricsEndpointOptionsValidator : IValidateOptions<MetricsEndpointOptions>;
