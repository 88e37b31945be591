using System.CommandLine;
using Aiops.Worker.Hosting;
using Aiops.Worker.Options;
using Microsoft.Extensions.DependencyInjection;

namespace Aiops.Worker.Cli;

/// <summary><c>aiops run</c>: the production worker against a Kafka cluster.</summary>
internal static class RunCommand
{
    public static Command Create(Action<IServiceCollection> registerCore)
    {
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Kafka bootstrap list (host:port,...), or 'embedded' for the in-process mock cluster. Sets Kafka:BootstrapServers." };
        var group = new Option<string?>("--group-id") { Description = "Consumer group id. Sets Kafka:GroupId." };
        var metricsEncoding = new Option<TopicEncoding?>("--metrics-encoding") { Description = "Encoding of the metrics topic. Sets Kafka:MetricsEncoding." };
        var spansEncoding = new Option<TopicEncoding?>("--spans-encoding") { Description = "Encoding of the spans topic. Sets Kafka:SpansEncoding." };
        var port = new Option<int?>("--metrics-port") { Description = "Port of the Prometheus /metrics endpoint. Sets Metrics:Port." };
        var stateDir = new Option<string?>("--state-dir") { Description = "Directory of detector checkpoints. Sets Checkpoint:Directory." };
        var command = new Command("run", "Consume OTLP metrics and spans from Kafka, detect anomalies, produce incidents to aiops.incidents. Any --Section:Key=value argument overrides a setting of appsettings.json.")
        {
            bootstrap, group, metricsEncoding, spansEncoding, port, stateDir,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            Set(overrides, "Kafka:BootstrapServers", parse.GetValue(bootstrap));
            Set(overrides, "Kafka:GroupId", parse.GetValue(group));
            Set(overrides, "Kafka:MetricsEncoding", parse.GetValue(metricsEncoding)?.ToString());
            Set(overrides, "Kafka:SpansEncoding", parse.GetValue(spansEncoding)?.ToString());
            Set(overrides, "Metrics:Port", parse.GetValue(port)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set(overrides, "Checkpoint:Directory", parse.GetValue(stateDir));
            var builder = WorkerHost.CreateBuilder(parse.UnmatchedTokens, overrides, registerCore);
            using var host = builder.Build();
            return await WorkerHost.RunAsync(host, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static void Set(Dictionary<string, string?> overrides, string key, string? value)
    {
        if (value is not null)
        {
            overrides[key] = value;
        }
    }
}
