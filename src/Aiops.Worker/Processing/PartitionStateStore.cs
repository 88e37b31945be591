using System.Globalization;
using Aiops.Worker.Options;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// Where <see cref="PartitionStates"/> keeps each input partition's saved state (the bytes of
/// its header, offsets and processor snapshot): a shared directory or the compacted state topic
/// (<c>Checkpoint:Store</c>). Used from the consume thread only.
/// </summary>
internal interface IPartitionStateStore : IDisposable
{
    /// <summary>Where the partition's state lives, for log lines.</summary>
    string Describe(TopicPartition partition);

    /// <summary>
    /// The latest complete state saved for the partition, or null when there is none. A partial
    /// save (a crash mid-write) is never returned: the previous complete one is.
    /// </summary>
    byte[]? Load(TopicPartition partition);

    /// <summary>Saves a state; it is durable once <see cref="Flush"/> returned true.</summary>
    void Write(TopicPartition partition, ReadOnlySpan<byte> state);

    /// <summary>
    /// Waits until every <see cref="Write"/> is durable. False only when the host is stopping and
    /// they are not: the caller must then not commit the offsets the states cover.
    /// </summary>
    bool Flush();
}

/// <summary>
/// <c>Checkpoint:Store=Directory</c>: one file per partition, <c>{Directory}/{group}/{topic}.{partition}.state</c>,
/// written to a temporary name, flushed to disk and renamed, so a crash mid-write leaves the previous file.
/// </summary>
internal sealed class DirectoryPartitionStore : IPartitionStateStore
{
    private readonly string _directory;

    public DirectoryPartitionStore(string directory) => _directory = directory;

    /// <summary>The state file of one partition.</summary>
    public string PathOf(TopicPartition partition) =>
        Path.Combine(_directory, CheckpointPositions.SafeFileName(partition.Topic) + "." + partition.Partition.Value.ToString(CultureInfo.InvariantCulture) + ".state");

    /// <inheritdoc/>
    public string Describe(TopicPartition partition) => PathOf(partition);

    /// <inheritdoc/>
    public byte[]? Load(TopicPartition partition)
    {
        var path = PathOf(partition);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    /// <inheritdoc/>
    public void Write(TopicPartition partition, ReadOnlySpan<byte> state)
    {
        Directory.CreateDirectory(_directory);
        var path = PathOf(partition);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            stream.Write(state);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <inheritdoc/>
    public bool Flush() => true;

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}

/// <summary>Chooses the partition-state store from <c>Checkpoint:Store</c>.</summary>
internal static class PartitionStateStores
{
    /// <summary>The configured store: the group's directory, or the state topic.</summary>
    public static IPartitionStateStore Create(IServiceProvider services)
    {
        var checkpoint = services.GetRequiredService<IOptions<CheckpointOptions>>().Value;
        return checkpoint.Store == CheckpointStore.Topic
            ? ActivatorUtilities.CreateInstance<TopicPartitionStore>(services)
            : new DirectoryPartitionStore(PartitionStates.DirectoryOf(checkpoint, services.GetRequiredService<IOptions<KafkaOptions>>().Value));
    }
}
