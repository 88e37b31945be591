using System.Reflection;
using Aiops.Worker.Options;
using Microsoft.Extensions.Configuration;

namespace Aiops.Deploy.Tests;

/// <summary>
/// The worker's effective defaults: its Options types bound over its committed
/// <c>appsettings.json</c>, exactly as the host layers them. The manifests are compared with
/// these, never with literals in the tests, so a change in the code fails the manifests it breaks.
/// </summary>
internal static class WorkerDefaults
{
    private static readonly IConfiguration Configuration = new ConfigurationBuilder()
        .AddJsonFile(RepoFiles.PathOf("src/Aiops.Worker/appsettings.json"), optional: false)
        .Build();

    public static KafkaOptions Kafka { get; } = Bind<KafkaOptions>(KafkaOptions.Section);

    public static MetricsEndpointOptions Metrics { get; } = Bind<MetricsEndpointOptions>(MetricsEndpointOptions.Section);

    public static CheckpointOptions Checkpoint { get; } = Bind<CheckpointOptions>(CheckpointOptions.Section);

    /// <summary>The environment variable prefix of the host (an internal constant of the worker, read by reflection).</summary>
    public static string EnvironmentPrefix { get; } = (string)typeof(KafkaOptions).Assembly
        .GetType("Aiops.Worker.Hosting.WorkerHost", throwOnError: true)!
        .GetField("EnvironmentPrefix", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!
        .GetRawConstantValue()!;

    /// <summary>Options type per configuration section, for checking that an environment variable names a real setting.</summary>
    public static IReadOnlyDictionary<string, Type> Sections { get; } = new Dictionary<string, Type>
    {
        [KafkaOptions.Section] = typeof(KafkaOptions),
        [MetricsEndpointOptions.Section] = typeof(MetricsEndpointOptions),
        [CheckpointOptions.Section] = typeof(CheckpointOptions),
    };

    /// <summary>
    /// The OpenTelemetry Collector Kafka exporter's name of each encoding the worker reads
    /// (exporter docs: <c>otlp_proto</c>, <c>otlp_json</c>, and for traces <c>jaeger_proto</c>,
    /// <c>jaeger_json</c>, <c>zipkin_json</c>); JSON lines has no exporter encoding.
    /// </summary>
    public static string CollectorEncoding(TopicEncoding encoding) => encoding switch
    {
        TopicEncoding.OtlpProtobuf => "otlp_proto",
        TopicEncoding.OtlpJson => "otlp_json",
        TopicEncoding.JaegerProtobuf => "jaeger_proto",
        TopicEncoding.JaegerJson => "jaeger_json",
        TopicEncoding.ZipkinJson => "zipkin_json",
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "no Collector exporter encoding"),
    };

    private static T Bind<T>(string section)
        where T : new()
    {
        var options = new T();
        Configuration.GetSection(section).Bind(options);
        return options;
    }

    /// <summary>
    /// Checks one <c>AIOPS_Section__Key=value</c> variable: the prefix, a known section, a bindable
    /// property, and a value that binds to the property's type. Returns (section, key).
    /// </summary>
    public static (string Section, string Key) CheckEnvironmentVariable(string name, string value)
    {
        Assert.StartsWith(EnvironmentPrefix, name, StringComparison.Ordinal);
        string[] parts = name[EnvironmentPrefix.Length..].Split("__");
        Assert.True(parts.Length == 2, $"{name} is not <prefix>Section__Key");
        Assert.True(Sections.TryGetValue(parts[0], out Type? type), $"{name}: no options section '{parts[0]}'");
        var property = type!.GetProperty(parts[1]);
        Assert.True(property is not null && property.CanWrite, $"{name}: {type.Name} has no settable property '{parts[1]}'");
        var bound = new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>(parts[0] + ":" + parts[1], value)])
            .Build()
            .GetSection(parts[0])
            .Get(type);
        Assert.NotNull(bound);
        return (parts[0], parts[1]);
    }
}
