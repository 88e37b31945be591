using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aiops.Worker.Telemetry;

/// <summary>
/// The consume loop's state for the health check: starting (degraded), running (healthy) or
/// failed (unhealthy, with the fatal reason).
/// </summary>
internal sealed class WorkerHealth : IHealthCheck
{
    private volatile string? _fatal;
    private volatile bool _running;

    /// <summary>The loop subscribed and is polling.</summary>
    public void ReportRunning() => _running = true;

    /// <summary>The loop stopped on a fatal error.</summary>
    public void ReportFatal(string reason)
    {
        _fatal = reason;
        _running = false;
    }

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = _fatal is { } reason
            ? HealthCheckResult.Unhealthy("consumer stopped: " + reason)
            : _running ? HealthCheckResult.Healthy("consuming") : HealthCheckResult.Degraded("starting");
        return Task.FromResult(result);
    }
}
