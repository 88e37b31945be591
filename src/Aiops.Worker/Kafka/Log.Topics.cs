using Microsoft.Extensions.Logging;

namespace Aiops.Worker;

/// <summary>Log messages of the internal topics (1610–1619) and the topic state store (1310–1319), kept apart from <c>Log.cs</c>.</summary>
internal static partial class Log
{
    [LoggerMessage(1610, LogLevel.Information, "Created internal topic {Topic}: {Partitions} partitions, replication {Replication}, cleanup.policy={Policy}")]
    public static partial void InternalTopicCreated(ILogger logger, string topic, int partitions, string replication, string policy);

    [LoggerMessage(1611, LogLevel.Debug, "Internal topic {Topic} present with the expected {Partitions} partitions")]
    public static partial void InternalTopicChecked(ILogger logger, string topic, int partitions);

    [LoggerMessage(1612, LogLevel.Warning, "Internal topic {Topic}: cleanup.policy could not be checked ({Reason}); it must be 'compact'")]
    public static partial void InternalTopicPolicyUnknown(ILogger logger, string topic, string reason);

    [LoggerMessage(1310, LogLevel.Warning, "State generation {Generation} of {Key} skipped ({What}); loading an older complete one if there is one")]
    public static partial void StateGenerationSkipped(ILogger logger, string key, long generation, string what);

    [LoggerMessage(1311, LogLevel.Warning, "{Remaining} partition-state chunks not acknowledged by {Topic} after {TimeoutMs} ms; waiting for the brokers (offsets not committed meanwhile)")]
    public static partial void StateTopicWaiting(ILogger logger, int remaining, string topic, int timeoutMs);
}
