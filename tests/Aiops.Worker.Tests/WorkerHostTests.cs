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
    [InlineData("Checkpoint:Store", "Topic", "Topic keeps one state per input partition; it needs Checkpoint:Scope=Partition")]
    [InlineData("Repartition:RedPartitions", "0", "0 partitions; must be between 1 and 10000")]
    [InlineData("Repartition:StateTopic", "state topic", "'state topic' is not a legal Kafka topic name")]
    [InlineData("Repartition:ReplicationFactor", "0", "0 is not a replication factor")]
    [InlineData("Repartition:VerdictsTopic", "aiops.internal.red", "'aiops.internal.red' is also Repartition:RedTopic")]
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

public sealed class SloConfigurationTests
{
    private static Dictionary<string, string?> CheckoutLatencySlo(string objective) => new()
    {
        ["Metrics:Enabled"] = "false",
        ["Pipeline:Slo:Objectives:0:Name"] = "checkout-latency",
        ["Pipeline:Slo:Objectives:0:Service"] = "checkout",
        ["Pipeline:Slo:Objectives:0:Kind"] = "Latency",
        ["Pipeline:Slo:Objectives:0:Objective"] = objective,
        ["Pipeline:Slo:Objectives:0:LatencyThresholdMs"] = "300",
    };

    [Fact]
    public void SlosDeclaredInConfigurationReachThePipelineWithTheDefaultBurnRateRules()
    {
        using var host = WorkerHost.CreateBuilder([], CheckoutLatencySlo("0.999"), RunningWorker.Fakes(new RecordingProcessor()), LogLevel.None).Build();
        var slo = host.Services.GetRequiredService<IOptions<Aiops.Topology.SloOptions>>().Value;

        var options = CoreServices.PipelineOptionsFor(new LimitsOptions(), slo);

        var objective = Assert.Single(options.Slo.Objectives);
        Assert.Equal(("checkout", Aiops.Topology.SliKind.Latency, 0.999, 300.0), (objective.Service, objective.Kind, objective.Objective, objective.LatencyThresholdMs));
        // None set in configuration: the SRE Workbook's three pairs (1h+5m 14.4x, 6h+30m 6x, 3d+6h 1x).
        Assert.Equal([14.4, 6, 1], options.Slo.Rules.Select(static r => r.BurnRate));
        // A pipeline accepts them (its constructor validates the options).
        Assert.Same(options, new Aiops.Pipeline.EventTimePipeline(options).Options);
    }

    [Fact]
    public void BurnRateRulesSetInConfigurationReplaceTheDefaultsInsteadOfAddingToThem()
    {
        var settings = CheckoutLatencySlo("0.999");
        settings["Pipeline:Slo:Rules:0:LongWindowMs"] = "3600000";
        settings["Pipeline:Slo:Rules:0:ShortWindowMs"] = "300000";
        settings["Pipeline:Slo:Rules:0:BurnRate"] = "10";
        using var host = WorkerHost.CreateBuilder([], settings, RunningWorker.Fakes(new RecordingProcessor()), LogLevel.None).Build();

        var rule = Assert.Single(host.Services.GetRequiredService<IOptions<Aiops.Topology.SloOptions>>().Value.Rules);

        Assert.Equal((3_600_000L, 300_000L, 10.0), (rule.LongWindowMs, rule.ShortWindowMs, rule.BurnRate));
    }

    [Fact]
    public async Task AnSloObjectiveOutsideZeroToOneFailsAtStartNamingTheSection()
    {
        using var host = WorkerHost.CreateBuilder([], CheckoutLatencySlo("1.5"), RunningWorker.Fakes(new RecordingProcessor()), LogLevel.None).Build();

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        var failures = exception switch
        {
            OptionsValidationException one => [one],
            AggregateException many => many.InnerExceptions.OfType<OptionsValidationException>().ToList(),
            _ => [],
        };
        var message = WorkerHost.FormatValidationFailure(failures);

        var line = Assert.Single(message.Split('\n'), static l => l.StartsWith("  - Pipeline:Slo:Objectives: ", StringComparison.Ordinal));
        Assert.Contains("checkout-latency", line, StringComparison.Ordinal);
        Assert.Contains("must be in (0, 1), got 1.5", line, StringComparison.Ordinal);
    }
}
