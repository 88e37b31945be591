using Aiops.Worker.Hosting;
using Aiops.Worker.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Tests;

public sealed class WorkerHostTests
{
    private static async Task<string> StartFailureAsync(Dictionary<string, string?> settings)
    {
        var processor = new RecordingProcessor();
        using var host = WorkerHost.CreateBuilder([], settings, RunningWorker.Fakes(processor), LogLevel.None).Build();
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        var failures = exception switch
        {
            OptionsValidationException one => [one],
            AggregateException many => many.InnerExceptions.OfType<OptionsValidationException>().ToList(),
            _ => [],
        };
        Assert.NotEmpty(failures);
        return WorkerHost.FormatValidationFailure(failures);
    }

    [Theory]
    [InlineData("Kafka:MaxBatchRecords", "0", "between 1 and 1000000")]
    [InlineData("Kafka:AutoOffsetReset", "middle", "^(earliest|latest)$")]
    [InlineData("Kafka:GroupId", "", "required")]
    [InlineData("Metrics:Port", "70000", "between 0 and 65535")]
    [InlineData("Checkpoint:IntervalMs", "-1", "between 0 and 3600000")]
    public async Task ABadSettingFailsAtStartWithAMessageNamingIt(string key, string value, string expectedRule)
    {
        var message = await StartFailureAsync(new Dictionary<string, string?> { [key] = value, ["Metrics:Enabled"] = "false" });

        // Each failure line starts with the full configuration key, then the rule from the attribute
        // on the options property (the ranges and pattern written in KafkaOptions & co.).
        var line = Assert.Single(message.Split('\n'), l => l.StartsWith("  - " + key + ": ", StringComparison.Ordinal));
        Assert.Contains(expectedRule, line, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLineArgumentsOverrideNamedOptionsWhichOverrideDefaults()
    {
        var overrides = new Dictionary<string, string?> { ["Kafka:GroupId"] = "from-option", ["Kafka:MetricsTopic"] = "from-option" };
        using var host = WorkerHost.CreateBuilder(["--Kafka:GroupId=from-args"], overrides, RunningWorker.Fakes(new RecordingProcessor()), LogLevel.None).Build();
        var kafka = host.Services.GetRequiredService<IOptions<KafkaOptions>>().Value;

        Assert.Equal("from-args", kafka.GroupId);
        Assert.Equal("from-option", kafka.MetricsTopic);
        // Not set anywhere in the test: the class default (the Collector exporter's topic name).
        Assert.Equal("otlp_spans", kafka.SpansTopic);
    }
}
