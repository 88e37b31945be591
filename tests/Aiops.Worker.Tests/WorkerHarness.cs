using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Processing;
using Aiops.Worker.Telemetry;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aiops.Worker.Tests;

/// <summary>One embedded broker shared by the tests of a class; each test uses its own topics and group.</summary>
public sealed class BrokerFixture : IDisposable
{
    public BrokerFixture() => Broker = EmbeddedBroker.Start();

    internal EmbeddedBroker Broker { get; }

    public void Dispose() => Broker.Dispose();
}

/// <summary>Topic and group names unique to one test, plus helpers to produce and read records.</summary>
internal sealed class TestTopics
{
    public TestTopics(EmbeddedBroker broker)
    {
        Broker = broker;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        Metrics = "m-" + suffix;
        Spans = "s-" + suffix;
        Incidents = "inc-" + suffix;
        DeadLetters = "dlq-" + suffix;
        Group = "g-" + suffix;
        StateDirectory = Path.Combine(Path.GetTempPath(), "aiops-tests", suffix);
    }

    public EmbeddedBroker Broker { get; }

    public string Metrics { get; }

    public string Spans { get; }

    public string Incidents { get; }

    public string DeadLetters { get; }

    public string Group { get; }

    public string StateDirectory { get; }

    public Task CreateAsync(int partitions = 1) =>
        Broker.CreateTopicsAsync([(Metrics, partitions), (Spans, partitions), (Incidents, 1), (DeadLetters, 1)]);

    public Dictionary<string, string?> Settings(string encoding = "JsonLines") => new()
    {
        ["Kafka:BootstrapServers"] = Broker.BootstrapServers,
        ["Kafka:GroupId"] = Group,
        ["Kafka:MetricsTopic"] = Metrics,
        ["Kafka:SpansTopic"] = Spans,
        ["Kafka:IncidentsTopic"] = Incidents,
        ["Kafka:DeadLetterTopic"] = DeadLetters,
        ["Kafka:MetricsEncoding"] = encoding,
        ["Kafka:SpansEncoding"] = encoding,
        ["Kafka:CommitIntervalMs"] = "100",
        ["Kafka:PollTimeoutMs"] = "20",
        ["Checkpoint:Directory"] = StateDirectory,
        ["Checkpoint:IntervalMs"] = "0",
        ["Metrics:Port"] = "0",
        // The mock cluster keeps a member that left until its session times out (45 s by default),
        // which would hold up the restart test's second worker; 6 s is the broker-side minimum.
        ["Kafka:ClientProperties:session.timeout.ms"] = "6000",
        ["Kafka:ClientProperties:heartbeat.interval.ms"] = "500",
    };

    public async Task ProduceAsync(string topic, IEnumerable<byte[]> values)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = Broker.BootstrapServers, EnableIdempotence = true, LingerMs = 1 }).Build();
        foreach (var value in values)
        {
            await producer.ProduceAsync(topic, new Message<byte[]?, byte[]> { Value = value });
        }

        producer.Flush(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Produces every value without waiting for each acknowledgement (idempotent, up to 16 MiB per
    /// record), value i to partition i mod <paramref name="partitions"/>, and returns where each one
    /// landed, in input order; fails if any was not delivered.
    /// </summary>
    public List<TopicPartitionOffset> ProduceMany(string topic, IReadOnlyList<byte[]> values, int partitions = 1, int firstPartition = 0)
    {
        var config = new ProducerConfig { BootstrapServers = Broker.BootstrapServers, EnableIdempotence = true, LingerMs = 5, MessageMaxBytes = 16 << 20 };
        using var producer = new ProducerBuilder<byte[]?, byte[]>(config).SetLogHandler(static (_, _) => { }).Build();
        var landed = new TopicPartitionOffset[values.Count];
        var failures = 0;
        for (var i = 0; i < values.Count; i++)
        {
            var index = i;
            while (true)
            {
                try
                {
                    producer.Produce(new TopicPartition(topic, firstPartition + (i % partitions)), new Message<byte[]?, byte[]> { Value = values[i] }, report =>
                    {
                        if (report.Error.IsError)
                        {
                            Interlocked.Increment(ref failures);
                        }

                        landed[index] = report.TopicPartitionOffset;
                    });
                    break;
                }
                catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(20));
                }
            }
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, failures);
        return [.. landed];
    }

    /// <summary>Next offset (high watermark) of every partition of <paramref name="topic"/>, from partition 0 up to <paramref name="partitions"/>.</summary>
    public long[] EndOffsets(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = Broker.BootstrapServers, GroupId = Group + "-probe" }).Build();
        return [.. Enumerable.Range(0, partitions).Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value)];
    }

    /// <summary>The group's committed offset of every partition of <paramref name="topic"/> (-1001 when none).</summary>
    public long[] CommittedOffsets(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = Broker.BootstrapServers, GroupId = Group, EnableAutoCommit = false }).Build();
        return [.. consumer.Committed([.. Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p))], TimeSpan.FromSeconds(10)).Select(static o => o.Offset.Value)];
    }

    /// <summary>Reads a topic from the beginning until <paramref name="expected"/> records arrived or 20 s passed.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, int expected, TimeSpan? settle = null, TimeSpan? limit = null)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = Broker.BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var results = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < deadline && results.Count < expected)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is { IsPartitionEOF: false, Message: not null })
            {
                results.Add(r);
            }
        }

        // After the expected count, keep reading a little to catch records that should not be there.
        var quietUntil = DateTime.UtcNow + (settle ?? TimeSpan.FromSeconds(1));
        while (DateTime.UtcNow < quietUntil)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is { IsPartitionEOF: false, Message: not null })
            {
                results.Add(r);
            }
        }

        consumer.Close();
        return results;
    }

    /// <summary>The group's committed offset of partition 0 of <paramref name="topic"/>.</summary>
    public long CommittedOffset(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = Broker.BootstrapServers, GroupId = Group, EnableAutoCommit = false }).Build();
        var committed = consumer.Committed([new TopicPartition(topic, 0)], TimeSpan.FromSeconds(10));
        return committed[0].Offset.Value;
    }
}

/// <summary>A worker host started in-process on the embedded broker.</summary>
internal sealed class RunningWorker : IAsyncDisposable
{
    private readonly IHost _host;

    private RunningWorker(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    internal WorkerMetrics Metrics => _host.Services.GetRequiredService<WorkerMetrics>();

    public static async Task<RunningWorker> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection> registerCore, params string[] args)
    {
        var builder = WorkerHost.CreateBuilder(args, settings, registerCore, LogLevel.Warning);
        var host = builder.Build();
        await host.StartAsync();
        return new RunningWorker(host);
    }

    public static Action<IServiceCollection> Fakes(RecordingProcessor processor) => services =>
    {
        services.AddSingleton<ITelemetryDecoder, CsvLineDecoder>();
        services.AddSingleton<ITelemetryProcessor>(processor);
    };

    public async Task StopAsync() => await _host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 50 ms for up to 30 s; fails the test with <paramref name="what"/> on time-out.</summary>
    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(condition, () => what);

    /// <summary>As above, describing the state at the time-out; <paramref name="limit"/> defaults to 30 s.</summary>
    public static async Task UntilAsync(Func<bool> condition, Func<string> what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("Timed out waiting for " + what());
            }

            await Task.Delay(50);
        }
    }
}
