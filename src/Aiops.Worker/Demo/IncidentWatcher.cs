using System.Collections.Concurrent;
using Aiops.Worker.Processing;
using Confluent.Kafka;

namespace Aiops.Worker.Demo;

/// <summary>
/// Reads the incidents topic from the beginning on a background thread, as a downstream alerting
/// consumer would, and collects the messages; the demo prints them and the tests assert on them.
/// </summary>
internal sealed class IncidentWatcher : IDisposable
{
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly ConcurrentQueue<IncidentMessage> _all = new();
    private readonly Action<IncidentMessage>? _onMessage;

    public IncidentWatcher(string bootstrapServers, string topic, Action<IncidentMessage>? onMessage = null)
    {
        _onMessage = onMessage;
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "aiops-incident-watcher-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).SetLogHandler(static (_, _) => { }).Build();
        _consumer.Subscribe(topic);
        _thread = new Thread(Run) { IsBackground = true, Name = "incident-watcher" };
        _thread.Start();
    }

    /// <summary>Every message read so far, in topic order.</summary>
    public IReadOnlyList<IncidentMessage> Messages => [.. _all];

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            var result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is { IsPartitionEOF: false, Message.Value: { } value } && IncidentJsonContext.FromUtf8(value) is { } message)
            {
                _all.Enqueue(message);
                _onMessage?.Invoke(message);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }
}
