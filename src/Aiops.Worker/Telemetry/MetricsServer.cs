using System.Net;
using System.Net.Sockets;
using System.Text;
using Aiops.Worker.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Telemetry;

/// <summary>
/// A minimal HTTP/1.1 server on a <see cref="TcpListener"/>: <c>GET /metrics</c> answers the
/// Prometheus text format, <c>GET /healthz</c> the health-check status (200 healthy or degraded,
/// 503 unhealthy). One request per connection, then close: a scraper every 15 s needs no more,
/// and it keeps the server free of ASP.NET.
/// </summary>
internal sealed class MetricsServer : BackgroundService
{
    /// <summary>Requests larger than this are refused; a scrape request line and headers are a few hundred bytes.</summary>
    private const int MaxRequestBytes = 8 * 1024;

    private readonly WorkerMetrics _metrics;
    private readonly HealthCheckService _health;
    private readonly MetricsEndpointOptions _options;
    private readonly ILogger<MetricsServer> _logger;
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MetricsServer(WorkerMetrics metrics, HealthCheckService health, IOptions<MetricsEndpointOptions> options, ILogger<MetricsServer> logger)
    {
        _metrics = metrics;
        _health = health;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The endpoint actually bound (useful with port 0); completes once listening.</summary>
    public Task<IPEndPoint> BoundEndpoint => _bound.Task;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            _bound.TrySetCanceled(stoppingToken);
            return;
        }

        var address = IPAddress.TryParse(_options.Host, out var ip) ? ip : (await Dns.GetHostAddressesAsync(_options.Host, stoppingToken).ConfigureAwait(false))[0];
        var listener = new TcpListener(address, _options.Port);
        listener.Start();
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        _bound.TrySetResult(endpoint);
        Log.MetricsListening(_logger, endpoint.ToString());
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stoppingToken).ConfigureAwait(false);
                _ = ServeAsync(client, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Normal shutdown.
        }
        finally
        {
            listener.Stop();
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var path = await ReadRequestPathAsync(stream, cancellationToken).ConfigureAwait(false);
                var (status, contentType, body) = path switch
                {
                    null => ("400 Bad Request", "text/plain; charset=utf-8", "bad request\n"),
                    "/metrics" => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", RenderMetrics()),
                    "/healthz" or "/health" => await RenderHealthAsync(cancellationToken).ConfigureAwait(false),
                    _ => ("404 Not Found", "text/plain; charset=utf-8", "not found: try /metrics or /healthz\n"),
                };
                var payload = Encoding.UTF8.GetBytes(body);
                var head = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                Log.MetricsRequestFailed(_logger, ex.Message);
            }
        }
    }

    private string RenderMetrics()
    {
        var text = new StringBuilder(4096);
        _metrics.WritePrometheus(text);
        return text.ToString();
    }

    private async Task<(string, string, string)> RenderHealthAsync(CancellationToken cancellationToken)
    {
        var report = await _health.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        var status = report.Status == HealthStatus.Unhealthy ? "503 Service Unavailable" : "200 OK";
        var body = new StringBuilder().Append(report.Status).Append('\n');
        foreach (var entry in report.Entries)
        {
            body.Append(entry.Key).Append(": ").Append(entry.Value.Status).Append(' ').Append(entry.Value.Description).Append('\n');
        }

        return (status, "text/plain; charset=utf-8", body.ToString());
    }

    /// <summary>Reads the request head and returns the path of a GET, or null when it is not one.</summary>
    internal static async Task<string?> ReadRequestPathAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        var head = Encoding.ASCII.GetString(buffer, 0, length);
        var lineEnd = head.IndexOf("\r\n", StringComparison.Ordinal);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        var parts = requestLine.Split(' ');
        if (parts.Length != 3 || parts[0] != "GET")
        {
            return null;
        }

        var target = parts[1];
        var query = target.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? target : target[..query];
    }
}
