using System.Security.Cryptography;
using Aiops.Worker.Kafka;
using Aiops.Worker.Options;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// Makes the effect on <c>aiops.incidents</c> exactly once across crashes without Kafka
/// transactions. Incident events are deterministic: the same records through the same state give
/// byte-identical messages. A checkpoint records how far the incidents topic was written
/// (<see cref="CaptureMarks"/>); after a restore, the records between the checkpoint and the crash
/// are processed again, and every event they produce that is already on the topic past those
/// marks (<see cref="LoadSince"/>) was written before the crash and is not produced a second time.
/// </summary>
/// <remarks>
/// Only events written after the restored checkpoint are read back: a few seconds of incidents
/// (<c>Checkpoint:IntervalMs</c>), a few hundred bytes each, so the set stays small; each entry is
/// removed when its replayed twin is suppressed.
/// </remarks>
internal sealed class IncidentLedger
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReadBackLimit = TimeSpan.FromSeconds(30);

    private readonly KafkaClients _clients;
    private readonly KafkaOptions _options;
    private readonly ILogger<IncidentLedger> _logger;
    private readonly HashSet<string> _alreadyWritten = new(StringComparer.Ordinal);

    public IncidentLedger(KafkaClients clients, IOptions<KafkaOptions> options, ILogger<IncidentLedger> logger)
    {
        _clients = clients;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Incident events read back and not yet met again.</summary>
    public int AlreadyWrittenCount => _alreadyWritten.Count;

    /// <summary>
    /// Records the incidents topic's high watermarks into <paramref name="positions"/>. Call after
    /// the producer was flushed, so every incident of the state being saved is below the marks.
    /// Returns false when the brokers could not say (the checkpoint is then taken at a later batch).
    /// </summary>
    public bool CaptureMarks(IClient anyClient, CheckpointPositions positions)
    {
        ArgumentNullException.ThrowIfNull(anyClient);
        ArgumentNullException.ThrowIfNull(positions);
        positions.IncidentsTopic = _options.IncidentsTopic;
        positions.IncidentMarks.Clear();
        try
        {
            using var admin = new DependentAdminClientBuilder(anyClient.Handle).Build();
            var partitions = Partitions(admin);
            if (partitions.Count == 0)
            {
                return true; // nothing written yet: a restore reads the topic from its beginning
            }

            using var probe = new ConsumerBuilder<Ignore, Ignore>(ProbeConfig()).SetLogHandler(static (_, _) => { }).Build();
            foreach (var p in partitions)
            {
                var marks = probe.QueryWatermarkOffsets(new TopicPartition(_options.IncidentsTopic, p), MetadataTimeout);
                positions.IncidentMarks[p] = marks.High.Value;
            }

            return true;
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            Log.IncidentMarksUnavailable(_logger, ex.Error.Reason);
            return false;
        }
    }

    /// <summary>
    /// Reads the incident events written after the checkpoint's marks (the whole topic for a
    /// partition without a mark) and remembers them, replacing what was remembered before.
    /// </summary>
    public void LoadSince(CheckpointPositions positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        _alreadyWritten.Clear();
        var sameTopic = string.Equals(positions.IncidentsTopic, _options.IncidentsTopic, StringComparison.Ordinal);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(ProbeConfig()).SetLogHandler(static (_, _) => { }).Build();
        using var admin = new AdminClientBuilder(_clients.AdminConfig()).SetLogHandler(static (_, _) => { }).Build();
        var ends = new Dictionary<int, long>();
        var starts = new List<TopicPartitionOffset>();
        foreach (var p in Partitions(admin))
        {
            var tp = new TopicPartition(_options.IncidentsTopic, p);
            var high = consumer.QueryWatermarkOffsets(tp, MetadataTimeout).High.Value;
            var from = sameTopic && positions.IncidentMarks.TryGetValue(p, out var mark) ? mark : 0;
            if (high > from)
            {
                ends[p] = high;
                starts.Add(new TopicPartitionOffset(tp, from));
            }
        }

        if (starts.Count == 0)
        {
            return;
        }

        consumer.Assign(starts);
        var deadline = DateTime.UtcNow + ReadBackLimit;
        while (ends.Count > 0 && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result?.Message is null)
            {
                continue;
            }

            if (result.Message.Value is { } value)
            {
                _alreadyWritten.Add(Fingerprint(value));
            }

            if (result.Offset.Value + 1 >= ends.GetValueOrDefault(result.Partition.Value, long.MaxValue))
            {
                ends.Remove(result.Partition.Value);
            }
        }

        if (ends.Count > 0)
        {
            throw new KafkaException(new Error(ErrorCode.Local_TimedOut, $"Could not read back {_options.IncidentsTopic} within {ReadBackLimit.TotalSeconds} s; not resuming, to avoid duplicate incidents."));
        }

        Log.IncidentsReadBack(_logger, _alreadyWritten.Count, _options.IncidentsTopic);
    }

    /// <summary>True (and forgotten) when this exact incident event is already on the topic.</summary>
    public bool TryForgetWritten(byte[] value) => _alreadyWritten.Count > 0 && _alreadyWritten.Remove(Fingerprint(value));

    private static string Fingerprint(byte[] value) => Convert.ToHexString(SHA256.HashData(value));

    private List<int> Partitions(IAdminClient admin)
    {
        var metadata = admin.GetMetadata(_options.IncidentsTopic, MetadataTimeout);
        var topic = metadata.Topics.Find(t => string.Equals(t.Topic, _options.IncidentsTopic, StringComparison.Ordinal));
        return topic is null || topic.Error.IsError ? [] : [.. topic.Partitions.Select(static p => p.PartitionId)];
    }

    private ConsumerConfig ProbeConfig()
    {
        var config = _clients.ConsumerConfig();
        config.GroupId = _options.GroupId + ".incident-ledger";
        config.EnableAutoCommit = false;
        return config;
    }
}
