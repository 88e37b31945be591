using System.Globalization;
using System.Text;
using Aiops.Redaction;
using Aiops.Worker.Hosting;
using Aiops.Worker.Outbound;
using Aiops.Worker.Processing;
using Aiops.Worker.Replay;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace Aiops.Worker.Tests;

/// <summary>
/// Personal data planted in the input (service names, metric labels, span names and attributes,
/// Kafka headers) must not come out of any exit: the incidents topic, the dead-letter topic
/// (payload, reason, headers), <c>incidents.jsonl</c> and the replay report.
/// </summary>
public sealed class OutboundRedactionTests : IClassFixture<BrokerFixture>
{
    private const long Start = 1_767_571_200_000; // 2026-01-05 00:00 UTC
    private const string Email = "alice.smith@example.com";
    private const string Ip = "203.0.113.77";
    private const string Token = "s3cr3tT0kenValue123";
    private const string Card = "4111 1111 1111 1111"; // the Visa test number, Luhn-valid
    private const string CardDigits = "4111111111111111";

    /// <summary>Every planted secret, and fragments that would betray a partial mask.</summary>
    private static readonly string[] Secrets = [Email, "alice.smith", Ip, Token, Card, CardDigits, "1111 1111"];

    private readonly BrokerFixture _fixture;

    public OutboundRedactionTests(BrokerFixture fixture) => _fixture = fixture;

    /// <summary>
    /// JSON lines of a CPU step on two replicas of one service (minute 300 to 320 of 400, +0.6 on a
    /// 0.3 wave: the replay test's fault, which opens an incident) whose name holds an IP and whose
    /// points carry an e-mail (allowed key <c>instance</c> and a key off the allow-list), a card number in an
    /// allowed route and a bearer token in an allowed exception message; plus spans with the same
    /// data in their name, instance and attributes.
    /// </summary>
    private static List<string> PlantedLines()
    {
        var random = new Random(3);
        var lines = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            for (var replica = 1; replica <= 2; replica++)
            {
                var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) * 0.01;
                var value = 0.3 + (0.1 * Math.Sin(i / 30.0)) + noise + (i is >= 300 and < 320 ? 0.6 : 0);
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"type\":\"metric\",\"ts\":{Start + (i * 60_000L)},\"service\":\"pay-{Ip}\",\"metric\":\"process.cpu.utilization\",\"labels\":{{\"instance\":\"{replica}-{Email}\",\"user.email\":\"{Email}\",\"http.route\":\"/charge/{Card}\",\"exception.message\":\"denied: Authorization: Bearer {Token}\"}},\"kind\":\"saturation\",\"value\":{value:R}}}"));
            }

            if (i % 10 == 0)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"type\":\"span\",\"traceId\":\"{i + 1:x32}\",\"spanId\":\"{i + 1:x16}\",\"service\":\"pay-{Ip}\",\"instance\":\"{Email}\",\"name\":\"POST /charge/{CardDigits}\",\"kind\":\"server\",\"start\":{(Start + (i * 60_000L)) * 1_000_000},\"end\":{((Start + (i * 60_000L)) * 1_000_000) + 5_000_000},\"attributes\":{{\"enduser.id\":\"{Email}\",\"http.request.header.authorization\":\"Bearer {Token}\",\"client.address\":\"{Ip}\"}}}}"));
            }
        }

        return lines;
    }

    private static void AssertNoSecret(string exit, string text)
    {
        foreach (var secret in Secrets)
        {
            Assert.False(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"{exit} leaks '{secret}': {text}");
        }
    }

    [Fact]
    public async Task NothingPlantedLeaksThroughTheIncidentsTopicOrTheDeadLetterTopic()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        var settings = topics.Settings("JsonLines");
        settings["Checkpoint:Enabled"] = "false";

        // The bad record: a JSON line with a wrong type, full of the same data, with headers an
        // upstream producer might set (an allowed one holding an IP, two that are not allowed).
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _fixture.Broker.BootstrapServers, LingerMs = 1 }).Build())
        {
            foreach (var line in PlantedLines())
            {
                producer.Produce(topics.Metrics, new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes(line) });
            }

            var headers = new Headers
            {
                { "server.address", Encoding.UTF8.GetBytes(Ip) },
                { "authorization", Encoding.UTF8.GetBytes("Bearer " + Token) },
                { "x-user", Encoding.UTF8.GetBytes(Email) },
            };
            producer.Produce(topics.Metrics, new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(Email),
                Value = Encoding.UTF8.GetBytes($"{{\"type\":\"metric\",\"ts\":\"{Email}\",\"service\":\"pay\",\"metric\":\"m\",\"labels\":{{\"user.email\":\"{Email}\",\"http.route\":\"/c/{Card}\"}},\"value\":\"Bearer {Token} from {Ip}\"}}"),
                Headers = headers,
            });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var total = PlantedLines().Count + 1;
        await using (var worker = await RunningWorker.StartAsync(settings, CoreServices.Register))
        {
            await Wait.UntilAsync(() => worker.Metrics.Records >= total && worker.Metrics.DeadLetters >= 1, () => $"{total} records and a dead letter (read {worker.Metrics.Records})");
            await Wait.UntilAsync(() => worker.Metrics.Commits > 0 && worker.Metrics.IncidentEvents > 0, "a commit after the incident");
        }

        var incidents = topics.ReadAll(topics.Incidents, expected: 1, settle: TimeSpan.FromMilliseconds(300));
        Assert.NotEmpty(incidents);
        foreach (var record in incidents)
        {
            AssertNoSecret("aiops.incidents", Encoding.UTF8.GetString(record.Message.Value!));
        }

        // The exit did carry the planted series (so the absence above is redaction, not silence).
        var opened = IncidentJsonContext.FromUtf8(incidents[0].Message.Value!)!;
        Assert.Contains(opened.Anomalies, a => a.Service == "pay-[IP]" && a.Labels.Contains("user.email=[REDACTED]", StringComparison.Ordinal)
            && a.Labels.Contains("instance=[EMAIL]", StringComparison.Ordinal) && a.Labels.Contains("http.route=/charge/[CARD]", StringComparison.Ordinal));

        var dead = Assert.Single(topics.ReadAll(topics.DeadLetters, expected: 1, settle: TimeSpan.FromMilliseconds(300)));
        AssertNoSecret("dead-letter key", Encoding.UTF8.GetString(dead.Message.Key!));
        AssertNoSecret("dead-letter payload", Encoding.UTF8.GetString(dead.Message.Value!));
        foreach (var header in dead.Message.Headers)
        {
            AssertNoSecret("dead-letter header " + header.Key, Encoding.UTF8.GetString(header.GetValueBytes()));
        }

        string Header(string key) => Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(key));
        Assert.Equal("[REDACTED]", Header("x-user")); // not on the allow-list
        Assert.Equal("[REDACTED]", Header("authorization")); // denied
        Assert.Equal("[IP]", Header("server.address")); // allowed, masked
        Assert.Equal("redacted", Header(OutboundRedaction.HeaderPayload)); // the default treatment
        Assert.Contains("[EMAIL]", Header(StreamWorker.HeaderErrorReason), StringComparison.Ordinal); // the reason quoted the bad ts
    }

    [Fact]
    public void NothingPlantedLeaksThroughIncidentsJsonlOrTheReplayReport()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aiops-tests", "leak-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), PlantedLines());
            File.WriteAllText(Path.Combine(dir, "ground_truth.json"), string.Create(CultureInfo.InvariantCulture,
                $"{{\"seed\":1,\"startMs\":{Start},\"endMs\":{Start + (400 * 60_000L)},\"faults\":[{{\"id\":\"f1\",\"kind\":\"cpu_saturation\",\"rootCause\":\"pay-{Ip}\",\"startMs\":{Start + (300 * 60_000L)},\"endMs\":{Start + (320 * 60_000L)}}}]}}"));
            var output = Path.Combine(dir, "out");

            Assert.Equal(0, ReplayRunner.Run(dir, output));

            var incidents = File.ReadAllText(Path.Combine(output, "incidents.jsonl"));
            var report = File.ReadAllText(Path.Combine(output, "report.html"));
            Assert.Contains("pay-[IP]", incidents, StringComparison.Ordinal);
            AssertNoSecret("incidents.jsonl", incidents);
            AssertNoSecret("report.html", report);
            // The scores compare redacted names with redacted names: the fault is still matched.
            Assert.Contains("AC@1 1.00", report, StringComparison.Ordinal);
            // The report still plots the flagged series, named (in the img alt text) as redacted.
            Assert.Contains("<img src=\"plots/01.png\" alt=\"pay-[IP]", report, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(output, "plots", "01.png")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(DeadLetterPayloadMode.Original, true)]
    [InlineData(DeadLetterPayloadMode.Redacted, false)]
    public void TheDeadLetterPayloadModeDecidesWhetherTheOriginalBytesLeave(DeadLetterPayloadMode mode, bool original)
    {
        var gate = new OutboundRedaction(new RedactionOptions { DeadLetterPayload = mode });
        var payload = Encoding.UTF8.GetBytes("bad record from " + Email);

        var value = gate.DeadLetterBytes(payload)!;

        Assert.Equal(original, value.AsSpan().SequenceEqual(payload));
        Assert.Equal(original, Encoding.UTF8.GetString(value).Contains(Email, StringComparison.Ordinal));
        Assert.Null(new OutboundRedaction(new RedactionOptions { DeadLetterPayload = DeadLetterPayloadMode.Omitted }).DeadLetterBytes(payload));
    }

    [Fact]
    public void EvidenceTextHasItsLabelSetFilteredByTheAllowListAndTheRestMasked()
    {
        var gate = new OutboundRedaction(new RedactionOptions());

        var text = gate.Text($"pay/latency{{http.route=/a,b,user.id=42}} Spike: from {Ip}, p=1e-06");

        // http.route is allowed ("/a,b" keeps its comma), user.id is not; the IP outside the braces is masked.
        Assert.Equal("pay/latency{http.route=/a,b,user.id=[REDACTED]} Spike: from [IP], p=1e-06", text);
    }

    [Fact]
    public void ConfiguredAllowedKeysAddToTheDefaultsAndABadPatternFailsAtStart()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Redaction:AllowedKeys:0"] = "tenant",
            ["Redaction:DeadLetterPayload"] = "Omitted",
        }).Build();

        var gate = OutboundServices.RedactionFrom(configuration);

        Assert.True(gate.Redactor.IsAllowed("tenant"));
        Assert.True(gate.Redactor.IsAllowed("http.route")); // a default, still there
        Assert.Equal(DeadLetterPayloadMode.Omitted, gate.PayloadMode);
        Assert.Throws<ArgumentException>(() => new OutboundRedaction(new RedactionOptions { CustomPatterns = [new CustomRedactionPattern { Name = "x", Pattern = "(" }] }));
    }
}
