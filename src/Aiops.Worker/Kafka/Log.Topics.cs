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
}
