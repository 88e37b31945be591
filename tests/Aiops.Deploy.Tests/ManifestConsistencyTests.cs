using System.Text.RegularExpressions;
using Aiops.Worker.Options;
using YamlDotNet.RepresentationModel;

namespace Aiops.Deploy.Tests;

/// <summary>
/// The deployment files must agree with the worker's code: topic names, encodings, consumer
/// group, metrics port and environment variable names are read from the worker's Options types
/// and appsettings.json (<see cref="WorkerDefaults"/>), never written here.
/// </summary>
public sealed class ManifestConsistencyTests
{
    private const string Compose = "deploy/compose/docker-compose.yml";
    private const string Collector = "deploy/compose/otel-collector.yaml";
    private const string Dockerfile = "deploy/Dockerfile";

    /// <summary>The settings every deployment must pin, with the value the worker's defaults give them.</summary>
    private static Dictionary<string, string> ExpectedSettings() => new()
    {
        ["Kafka:GroupId"] = WorkerDefaults.Kafka.GroupId,
        ["Kafka:MetricsTopic"] = WorkerDefaults.Kafka.MetricsTopic,
        ["Kafka:MetricsEncoding"] = WorkerDefaults.Kafka.MetricsEncoding.ToString(),
        ["Kafka:SpansTopic"] = WorkerDefaults.Kafka.SpansTopic,
        ["Kafka:SpansEncoding"] = WorkerDefaults.Kafka.SpansEncoding.ToString(),
        ["Kafka:IncidentsTopic"] = WorkerDefaults.Kafka.IncidentsTopic,
        ["Kafka:DeadLetterTopic"] = WorkerDefaults.Kafka.DeadLetterTopic,
        ["Metrics:Port"] = WorkerDefaults.Metrics.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Checks an environment block and returns it keyed by <c>Section:Key</c>.</summary>
    private static Dictionary<string, string> CheckEnvironment(IEnumerable<KeyValuePair<string, string>> variables, bool requireAll = true)
    {
        var settings = new Dictionary<string, string>();
        foreach (var (name, value) in variables)
        {
            var (section, key) = WorkerDefaults.CheckEnvironmentVariable(name, value);
            settings[section + ":" + key] = value;
        }

        foreach (var (key, expected) in ExpectedSettings())
        {
            if (settings.TryGetValue(key, out string? actual))
            {
                Assert.True(expected == actual, $"{key} is '{actual}' in the manifest but '{expected}' in the worker");
            }
            else
            {
                Assert.False(requireAll, $"{key} is not set; the manifest must pin it to '{expected}'");
            }
        }

        // In a container the endpoint must listen beyond loopback (the worker's default is 127.0.0.1).
        if (settings.TryGetValue("Metrics:Host", out string? host))
        {
            Assert.Equal("0.0.0.0", host);
        }

        return settings;
    }

    private static List<string> YamlFilePaths() =>
    [
        .. Directory.EnumerateFiles(RepoFiles.PathOf("deploy"), "*.*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".yml", StringComparison.Ordinal) || p.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(RepoFiles.Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal),
    ];

    public static TheoryData<string> YamlFiles() => [.. YamlFilePaths()];

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void EveryYamlFileParsesIntoMappings(string path)
    {
        var documents = RepoFiles.Yaml(path);

        Assert.NotEmpty(documents);
        Assert.All(documents, d => Assert.NotEmpty(d.Children));
    }

    [Fact]
    public void TheDeployFolderHasTheManifestsTheIssueAsksFor()
    {
        // Guards the theory above against silently checking nothing.
        Assert.Contains(Compose, YamlFilePaths());
        Assert.Contains(Collector, YamlFilePaths());
        Assert.True(File.Exists(RepoFiles.PathOf(Dockerfile)));
    }

    [Fact]
    public void TheComposeWorkerEnvironmentNamesRealSettingsWithTheWorkersValues()
    {
        var worker = RepoFiles.YamlDocument(Compose).Map("services", "aiops-worker");

        var settings = CheckEnvironment(worker.Map("environment").ScalarPairs());

        // The bootstrap list is the broker's in-network listener.
        string advertised = RepoFiles.YamlDocument(Compose).Str("services", "kafka", "environment", "KAFKA_ADVERTISED_LISTENERS");
        Assert.Contains("PLAINTEXT://" + settings["Kafka:BootstrapServers"], advertised, StringComparison.Ordinal);
        // The checkpoint directory is the mounted volume.
        Assert.Contains(worker.Seq("volumes").Cast<YamlScalarNode>(), v => v.Value!.EndsWith(":" + settings["Checkpoint:Directory"], StringComparison.Ordinal));
        // The metrics port is published.
        Assert.Contains(worker.Seq("ports").Cast<YamlScalarNode>(), p => p.Value!.EndsWith(":" + WorkerDefaults.Metrics.Port, StringComparison.Ordinal));
    }

    [Fact]
    public void TheComposeInitJobCreatesEveryTopicTheWorkerUses()
    {
        string script = string.Join('\n', RepoFiles.YamlDocument(Compose).Seq("services", "kafka-init", "command").Cast<YamlScalarNode>().Select(s => s.Value));
        var loop = Regex.Match(script, @"for topic in (?<topics>[^;]+);");
        Assert.True(loop.Success, "kafka-init must loop over the topic names");
        string[] created = loop.Groups["topics"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(
            new[] { WorkerDefaults.Kafka.MetricsTopic, WorkerDefaults.Kafka.SpansTopic, WorkerDefaults.Kafka.IncidentsTopic, WorkerDefaults.Kafka.DeadLetterTopic }.Order(),
            created.Order());
    }

    [Fact]
    public void TheCollectorExportsBothSignalsToTheWorkersTopicsInItsEncoding()
    {
        var config = RepoFiles.YamlDocument(Collector);
        var kafka = config.Map("exporters", "kafka");

        Assert.Equal(WorkerDefaults.Kafka.SpansTopic, kafka.Str("traces", "topic"));
        Assert.Equal(WorkerDefaults.CollectorEncoding(WorkerDefaults.Kafka.SpansEncoding), kafka.Str("traces", "encoding"));
        Assert.Equal(WorkerDefaults.Kafka.MetricsTopic, kafka.Str("metrics", "topic"));
        Assert.Equal(WorkerDefaults.CollectorEncoding(WorkerDefaults.Kafka.MetricsEncoding), kafka.Str("metrics", "encoding"));
        foreach (string signal in new[] { "traces", "metrics" })
        {
            var exporters = config.Seq("service", "pipelines", signal, "exporters").Cast<YamlScalarNode>().Select(s => s.Value);
            Assert.Contains("kafka", exporters);
        }

        // The exporter writes to the same broker the worker reads from.
        var worker = RepoFiles.YamlDocument(Compose).Map("services", "aiops-worker");
        string bootstrap = worker.Str("environment", "AIOPS_Kafka__BootstrapServers");
        Assert.Contains(bootstrap, kafka.Seq("brokers").Cast<YamlScalarNode>().Select(s => s.Value));
    }

    [Fact]
    public void TheComposeCollectorMountsTheCheckedConfigFile()
    {
        var collector = RepoFiles.YamlDocument(Compose).Map("services", "otel-collector");

        Assert.Contains(collector.Seq("volumes").Cast<YamlScalarNode>(), v => v.Value!.StartsWith("./" + Path.GetFileName(Collector) + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void TheKubernetesConfigMapNamesRealSettingsWithTheWorkersValues()
    {
        var configMap = RepoFiles.YamlDocument("deploy/k8s/configmap.yaml");

        Assert.Equal("ConfigMap", configMap.Str("kind"));
        var settings = CheckEnvironment(configMap.Map("data").ScalarPairs());

        var keda = RepoFiles.YamlDocument("deploy/k8s/keda-scaledobject.yaml");
        Assert.All(keda.Seq("spec", "triggers"), t => Assert.Equal(settings["Kafka:BootstrapServers"], t.Str("metadata", "bootstrapServers")));
        var container = Assert.Single(RepoFiles.YamlDocument("deploy/k8s/deployment.yaml").Seq("spec", "template", "spec", "containers"));
        Assert.Contains(container.Seq("volumeMounts"), m => m.Str("mountPath") == settings["Checkpoint:Directory"]);
    }

    [Fact]
    public void TheDeploymentExposesTheMetricsPortReadsTheConfigMapAndRunsAsNonRoot()
    {
        var deployment = RepoFiles.YamlDocument("deploy/k8s/deployment.yaml");
        var pod = deployment.Map("spec", "template", "spec");
        var container = Assert.Single(pod.Seq("containers"));

        Assert.Equal("Deployment", deployment.Str("kind"));
        var port = Assert.Single(container.Seq("ports"));
        Assert.Equal(WorkerDefaults.Metrics.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), port.Str("containerPort"));
        Assert.Equal("metrics", port.Str("name"));
        Assert.Equal(RepoFiles.YamlDocument("deploy/k8s/configmap.yaml").Str("metadata", "name"), Assert.Single(container.Seq("envFrom")).Str("configMapRef", "name"));
        Assert.Equal("/healthz", container.Str("readinessProbe", "httpGet", "path"));
        Assert.Equal("metrics", container.Str("livenessProbe", "httpGet", "port"));
        Assert.Equal("true", pod.Str("securityContext", "runAsNonRoot"));
        Assert.NotEqual("0", pod.Str("securityContext", "runAsUser"));
        Assert.Equal(deployment.Str("spec", "template", "metadata", "annotations", "prometheus.io/port"), port.Str("containerPort"));
    }

    [Fact]
    public void TheServicePdbAndScaledObjectSelectTheDeployment()
    {
        var deployment = RepoFiles.YamlDocument("deploy/k8s/deployment.yaml");
        var podLabels = deployment.Map("spec", "template", "metadata", "labels").ScalarPairs().ToHashSet();
        var service = RepoFiles.YamlDocument("deploy/k8s/service.yaml");
        var pdb = RepoFiles.YamlDocument("deploy/k8s/pdb.yaml");
        var keda = RepoFiles.YamlDocument("deploy/k8s/keda-scaledobject.yaml");

        Assert.Subset(podLabels, service.Map("spec", "selector").ScalarPairs().ToHashSet());
        var servicePort = Assert.Single(service.Seq("spec", "ports"));
        Assert.Equal(WorkerDefaults.Metrics.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), servicePort.Str("port"));
        Assert.Equal("metrics", servicePort.Str("targetPort"));

        Assert.Equal("PodDisruptionBudget", pdb.Str("kind"));
        Assert.Subset(podLabels, pdb.Map("spec", "selector", "matchLabels").ScalarPairs().ToHashSet());

        Assert.Equal("ScaledObject", keda.Str("kind"));
        Assert.Equal(deployment.Str("metadata", "name"), keda.Str("spec", "scaleTargetRef", "name"));
    }

    [Fact]
    public void TheAutoscalerWatchesTheWorkersGroupOnBothInputTopics()
    {
        var triggers = RepoFiles.YamlDocument("deploy/k8s/keda-scaledobject.yaml").Seq("spec", "triggers");

        Assert.All(triggers, t =>
        {
            Assert.Equal("kafka", t.Str("type"));
            Assert.Equal(WorkerDefaults.Kafka.GroupId, t.Str("metadata", "consumerGroup"));
            Assert.Equal(WorkerDefaults.Kafka.AutoOffsetReset, t.Str("metadata", "offsetResetPolicy"));
        });
        Assert.Equal(
            new[] { WorkerDefaults.Kafka.MetricsTopic, WorkerDefaults.Kafka.SpansTopic }.Order(),
            triggers.Select(t => t.Str("metadata", "topic")).Order());
    }

    [Fact]
    public void TheKustomizationListsEveryKubernetesManifest()
    {
        var listed = RepoFiles.YamlDocument("deploy/k8s/kustomization.yaml").Seq("resources").Cast<YamlScalarNode>().Select(s => s.Value!).Order();
        var files = Directory.EnumerateFiles(RepoFiles.PathOf("deploy/k8s"), "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order();

        Assert.Equal(files, listed);
    }

    [Fact]
    public void TheDockerfileIsMultiStageNonRootAndAgreesWithTheWorker()
    {
        string[] lines = RepoFiles.Text(Dockerfile).Split('\n');
        // Continuation lines ("\") belong to the instruction above them.
        var instructions = new List<string>();
        foreach (string raw in lines)
        {
            string line = raw.TrimEnd();
            if (line.TrimStart().StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            if (instructions.Count > 0 && instructions[^1].EndsWith('\\'))
            {
                instructions[^1] = instructions[^1][..^1] + " " + line.Trim();
            }
            else
            {
                instructions.Add(line.Trim());
            }
        }

        var froms = instructions.Where(i => i.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.True(froms.Count >= 2, "the Dockerfile must have a build stage and a runtime stage");
        Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/sdk:\S+ AS build$", froms[0]);
        Assert.Matches(@"^FROM mcr\.microsoft\.com/dotnet/(runtime|runtime-deps|aspnet):\S+", froms[^1]);
        Assert.Contains(instructions, i => i.StartsWith("COPY --from=build ", StringComparison.Ordinal));
        Assert.Contains(instructions, i => i.Contains("dotnet publish src/Aiops.Worker/Aiops.Worker.csproj", StringComparison.Ordinal));

        string user = Assert.Single(instructions, i => i.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..];
        Assert.DoesNotContain(user, new[] { "root", "0" });
        Assert.Equal("EXPOSE " + WorkerDefaults.Metrics.Port, Assert.Single(instructions, i => i.StartsWith("EXPOSE ", StringComparison.Ordinal)));
        // The entry point is the worker's executable (its AssemblyName).
        Assert.Contains(instructions, i => i == "ENTRYPOINT [\"/app/" + typeof(KafkaOptions).Assembly.GetName().Name + "\"]");

        string env = Assert.Single(instructions, i => i.StartsWith("ENV ", StringComparison.Ordinal))["ENV ".Length..];
        var variables = Regex.Matches(env, @"(?<name>[A-Za-z_][A-Za-z0-9_]*)=(?<value>\S+)")
            .Select(m => new KeyValuePair<string, string>(m.Groups["name"].Value, m.Groups["value"].Value))
            .Where(v => v.Key.StartsWith(WorkerDefaults.EnvironmentPrefix, StringComparison.Ordinal));
        var settings = CheckEnvironment(variables, requireAll: false);
        Assert.Contains("Metrics:Port", settings.Keys);
        Assert.Contains(instructions, i => i.StartsWith("VOLUME ", StringComparison.Ordinal) && i.Contains(settings["Checkpoint:Directory"], StringComparison.Ordinal));
    }

    [Fact]
    public void AnEnvironmentVariableForAnUnknownSettingIsCaught()
    {
        // The checker itself must reject a typo, or every test above would pass vacuously.
        Assert.ThrowsAny<Exception>(() => WorkerDefaults.CheckEnvironmentVariable(WorkerDefaults.EnvironmentPrefix + "Kafka__MetricTopic", "otlp_metrics"));
        Assert.ThrowsAny<Exception>(() => WorkerDefaults.CheckEnvironmentVariable(WorkerDefaults.EnvironmentPrefix + "Kafka__MetricsEncoding", "protobuf"));
    }

    [Fact]
    public void TheDeployReadmePairsEverySpanEncodingWithTheCollectorsNameForIt()
    {
        // Rows "| `exporter name` ... | `TopicEncoding` | ..." of the README's span-format table.
        var rows = Regex.Matches(RepoFiles.Text("deploy/README.md"), @"^\| `(?<exporter>[a-z_]+)`[^|]*\| `(?<setting>[A-Za-z]+)` \|", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups["setting"].Value, m => m.Groups["exporter"].Value);
        var spanEncodings = Enum.GetValues<TopicEncoding>().Where(e => e != TopicEncoding.JsonLines).ToList();

        Assert.Equal(5, spanEncodings.Count); // OTLP protobuf and JSON, Jaeger protobuf and JSON, Zipkin JSON
        Assert.All(spanEncodings, e => Assert.Equal(WorkerDefaults.CollectorEncoding(e), rows.GetValueOrDefault(e.ToString())));
    }
}
