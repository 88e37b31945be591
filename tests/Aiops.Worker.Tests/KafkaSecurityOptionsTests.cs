using System.Collections.Concurrent;
using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OptionsFactory = Microsoft.Extensions.Options.Options;

namespace Aiops.Worker.Tests;

/// <summary>SASL/SCRAM and TLS settings reach every client; the secrets never leave in text.</summary>
public sealed class KafkaSecurityOptionsTests : IClassFixture<BrokerFixture>
{
    private const string Password = "s3cr3t-Pa55word-4711";
    private const string KeyPassword = "k3y-Pa55word-0815";

    private readonly BrokerFixture _fixture;

    public KafkaSecurityOptionsTests(BrokerFixture fixture) => _fixture = fixture;

    private static KafkaSecurityOptions Scram(string? caFile = null) => new()
    {
        Protocol = KafkaSecurityProtocol.SaslSsl,
        SaslMechanism = KafkaSaslMechanism.ScramSha512,
        SaslUsername = "aiops",
        SaslPassword = Password,
        SslCaLocation = caFile,
    };

    private static KafkaClients Clients(KafkaSecurityOptions security, KafkaOptions? kafka = null) =>
        new(OptionsFactory.Create(kafka ?? new KafkaOptions { BootstrapServers = "kafka-1:9093" }), OptionsFactory.Create(new LimitsOptions()), OptionsFactory.Create(security), NullLogger<KafkaClients>.Instance);

    [Fact]
    public void SaslScramOverTlsReachesTheConsumerTheProducerAndTheAdminClient()
    {
        var ca = Path.GetTempFileName();
        using var clients = Clients(Scram(ca));

        foreach (var config in new Confluent.Kafka.ClientConfig[] { clients.ConsumerConfig(), clients.ProducerConfig(), clients.AdminConfig() })
        {
            var settings = config.ToDictionary(static p => p.Key, static p => p.Value);
            Assert.Equal("sasl_ssl", settings["security.protocol"]);
            Assert.Equal("SCRAM-SHA-512", settings["sasl.mechanism"]);
            Assert.Equal("aiops", settings["sasl.username"]);
            Assert.Equal(Password, settings["sasl.password"]);
            Assert.Equal(ca, settings["ssl.ca.location"]);
            Assert.Equal("https", settings["ssl.endpoint.identification.algorithm"]);
        }
    }

    [Fact]
    public void AnExplicitLibrdkafkaClientPropertyWinsOverTheSecuritySection()
    {
        var kafka = new KafkaOptions { BootstrapServers = "kafka-1:9093", ClientProperties = { ["sasl.mechanism"] = "SCRAM-SHA-256" } };
        using var clients = Clients(Scram(), kafka);

        Assert.Equal("SCRAM-SHA-256", clients.ConsumerConfig().Get("sasl.mechanism"));
    }

    [Fact]
    public void TheDescriptionsOfTheSettingsMaskEverySecret()
    {
        var security = new KafkaSecurityOptions
        {
            Protocol = KafkaSecurityProtocol.SaslSsl,
            SaslUsername = "aiops",
            SaslPassword = Password,
            SslCertificateLocation = "/etc/aiops/client.pem",
            SslKeyLocation = "/etc/aiops/client.key",
            SslKeyPassword = KeyPassword,
        };
        var kafka = new KafkaOptions { ClientProperties = { ["sasl.password"] = Password, ["ssl.key.password"] = KeyPassword, ["sasl.oauthbearer.client.secret"] = Password, ["socket.timeout.ms"] = "5000" } };

        var texts = new[] { security.ToString(), kafka.ToString(), kafka.DescribeClientProperties() };

        foreach (var text in texts)
        {
            Assert.DoesNotContain(Password, text, StringComparison.Ordinal);
            Assert.DoesNotContain(KeyPassword, text, StringComparison.Ordinal);
        }

        Assert.Contains("SASL ScramSha512 as 'aiops', password ***", texts[0], StringComparison.Ordinal);
        Assert.Contains("key password ***", texts[0], StringComparison.Ordinal);
        Assert.Contains("sasl.password=***", texts[1], StringComparison.Ordinal);
        Assert.Contains("socket.timeout.ms=5000", texts[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Plaintext", "aiops", Password, "Kafka:Security:SaslUsername/SaslPassword: set, but Kafka:Security:Protocol is Plaintext")]
    [InlineData("SaslSsl", "aiops", "", "Kafka:Security:SaslPassword: required when Kafka:Security:Protocol is SaslSsl")]
    [InlineData("SaslSsl", "", Password, "Kafka:Security:SaslUsername: required when Kafka:Security:Protocol is SaslSsl")]
    public async Task ABadSecuritySettingFailsAtStartNamingTheSettingWithoutQuotingTheSecret(string protocol, string user, string password, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Metrics:Enabled"] = "false",
            ["Kafka:Security:Protocol"] = protocol,
            ["Kafka:Security:SaslUsername"] = user,
            ["Kafka:Security:SaslPassword"] = password,
        };
        using var host = WorkerHost.CreateBuilder([], settings, RunningWorker.Fakes(new RecordingProcessor()), LogLevel.None).Build();

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        var failures = exception is AggregateException many ? many.InnerExceptions.OfType<OptionsValidationException>().ToList() : [Assert.IsType<OptionsValidationException>(exception)];
        var message = WorkerHost.FormatValidationFailure(failures);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerAuthenticatingWithScramNeverWritesThePasswordToItsLog()
    {
        // The mock cluster does not speak SCRAM, so the clients log authentication failures too:
        // none of the lines, at any level, may carry the password.
        var topics = new TestTopics(_fixture.Broker);
        var settings = topics.Settings();
        settings["Kafka:Security:Protocol"] = "SaslPlaintext";
        settings["Kafka:Security:SaslMechanism"] = "ScramSha256";
        settings["Kafka:Security:SaslUsername"] = "aiops";
        settings["Kafka:Security:SaslPassword"] = Password;
        settings["Kafka:ClientProperties:sasl.oauthbearer.client.secret"] = Password;
        var capture = new CapturingLoggerProvider();
        var builder = WorkerHost.CreateBuilder([], settings, RunningWorker.Fakes(new RecordingProcessor()), LogLevel.Trace);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(capture);
        using (var host = builder.Build())
        {
            await host.StartAsync();
            await Wait.UntilAsync(() => capture.Lines.Any(static l => l.Contains("Kafka client error", StringComparison.Ordinal)), () => "a client error logged; got: " + string.Join(" | ", capture.Lines));
            await host.StopAsync();
        }

        Assert.Contains(capture.Lines, static l => l.Contains("SASL ScramSha256 as 'aiops', password ***", StringComparison.Ordinal));
        Assert.DoesNotContain(capture.Lines, static l => l.Contains(Password, StringComparison.Ordinal));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{logLevel} {eventId.Id} {formatter(state, exception)} {exception}");

        public void Dispose()
        {
        }
    }
}
