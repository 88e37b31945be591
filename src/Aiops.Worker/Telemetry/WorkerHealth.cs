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
    private volatile string? _waiting;

    /// <summary>The loop subscribed and is polling.</summary>
    public void ReportRunning()
    {
        _running = true;
        _waiting = null;
    }

    /// <summary>The loop is alive but waiting for the brokers (degraded until <see cref="ReportRunning"/>).</summary>
    public void ReportWaiting(string reason) => _waiting = reason;

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
            : _waiting is { } waiting ? HealthCheckResult.Degraded(waiting)
            : _running ? HealthCheckResult.Healthy("consuming") : HealthCheckResult.Degraded("starting");
        return Task.FromResult(result);
    }
}
