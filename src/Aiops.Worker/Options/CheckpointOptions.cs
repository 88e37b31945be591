using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Options;

/// <summary>
/// Where and how often detector state is saved. The state is written beside the offsets it
/// covers at a commit, so a restart resumes learning where the committed offsets resume reading.
/// </summary>
public sealed class CheckpointOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Checkpoint";

    /// <summary>Turns checkpointing off (a stateless worker relearns its baselines after a restart).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Directory of the state files; <c>models/state/</c> is git-ignored.</summary>
    [Required]
    [MinLength(1)]
    public string Directory { get; set; } = "models/state";

    /// <summary>
    /// Shortest wall-clock time between two checkpoints, milliseconds. A checkpoint is only taken at
    /// a commit, and the commit waits for it, so 10 s bounds the checkpoint cost to a few percent
    /// of a busy worker while a crash loses at most 10 s of learning (re-read from Kafka anyway).
    /// </summary>
    [Range(0, 3_600_000)]
    public int IntervalMs { get; set; } = 10_000;

    /// <summary>
    /// <c>Process</c> (default): one state for the whole process in <c>{group}.state</c>, right for
    /// one instance. <c>Partition</c>: one state per input partition in <c>{group}/{topic}.{partition}.state</c>,
    /// saved on revocation and loaded on assignment, so instances sharing the directory hand
    /// partitions over without relearning (see <c>PartitionStates</c> for what it does not cover).
    /// </summary>
    [EnumDataType(typeof(CheckpointScope))]
    public CheckpointScope Scope { get; set; } = CheckpointScope.Process;

    /// <summary>
    /// Where <c>Scope=Partition</c> states are kept. <c>Directory</c> (default): files under
    /// <see cref="Directory"/>, which every instance must mount. <c>Topic</c>: the compacted
    /// <c>Repartition:StateTopic</c>, so instances share nothing but the Kafka cluster.
    /// </summary>
    [EnumDataType(typeof(CheckpointStore))]
    public CheckpointStore Store { get; set; } = CheckpointStore.Directory;

    /// <summary>
    /// Largest state-topic record value with <c>Store=Topic</c>, bytes; a larger state is split into
    /// chunks of this size. 900,000 leaves room for key, headers and batch overhead under Kafka's
    /// default 1,048,588-byte <c>message.max.bytes</c> (a state is ~4 KiB per series, so 10k series
    /// make ~45 chunks).
    /// </summary>
    [Range(1024, 100_000_000)]
    public int ChunkBytes { get; set; } = 900_000;
}

/// <summary>Where per-partition states are kept.</summary>
public enum CheckpointStore
{
    /// <summary>One file per partition in a directory every instance shares.</summary>
    Directory = 0,

    /// <summary>Chunked records in the compacted state topic.</summary>
    Topic = 1,
}

/// <summary>What one detector state covers: the whole process, or one input partition.</summary>
public enum CheckpointScope
{
    /// <summary>One state per process.</summary>
    Process = 0,

    /// <summary>One state per assigned input partition.</summary>
    Partition = 1,
}

/// <summary>The rule the attributes cannot say: the topic store keeps per-partition states only.</summary>
internal sealed class CheckpointStoreValidator : IValidateOptions<CheckpointOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, CheckpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Store == CheckpointStore.Topic && options.Scope != CheckpointScope.Partition
            ? ValidateOptionsResult.Fail($"{CheckpointOptions.Section}:Store: Topic keeps one state per input partition; it needs {CheckpointOptions.Section}:Scope=Partition (Scope is {options.Scope}).")
            : ValidateOptionsResult.Success;
    }
}

/// <summary>Source-generated validator for <see cref="CheckpointOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class CheckpointOptionsValidator : IValidateOptions<CheckpointOptions>;
