using Microsoft.Extensions.Logging;

namespace Aiops.Worker;

/// <summary>
/// Source-generated log messages of the worker. Event ids by subsystem: 1000–1099 host,
/// 1100–1199 consumer, 1200–1299 producers (incidents, dead letters), 1300–1399 checkpoints,
/// 1400–1499 metrics endpoint, 1500–1599 embedded broker.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "Worker starting: bootstrap {Bootstrap}, group {GroupId}, topics {MetricsTopic} ({MetricsEncoding}) and {SpansTopic} ({SpansEncoding})")]
    public static partial void WorkerStarting(ILogger logger, string bootstrap, string groupId, string metricsTopic, Options.TopicEncoding metricsEncoding, string spansTopic, Options.TopicEncoding spansEncoding);

    [LoggerMessage(1001, LogLevel.Information, "Worker stopped after {Records} records, {Incidents} incident events, {DeadLetters} dead letters")]
    public static partial void WorkerStopped(ILogger logger, long records, long incidents, long deadLetters);

    [LoggerMessage(1002, LogLevel.Critical, "Fatal error, stopping the host: {Reason}")]
    public static partial void FatalError(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(1003, LogLevel.Information, "Kafka security: {Security}; client properties: {ClientProperties}")]
    public static partial void KafkaSecurity(ILogger logger, string security, string clientProperties);

    [LoggerMessage(1100, LogLevel.Information, "Partitions assigned: {Partitions}")]
    public static partial void PartitionsAssigned(ILogger logger, string partitions);

    [LoggerMessage(1101, LogLevel.Information, "Partitions revoked: {Partitions}; committing processed records first")]
    public static partial void PartitionsRevoked(ILogger logger, string partitions);

    [LoggerMessage(1102, LogLevel.Debug, "Committed {Count} partition offsets after {Records} records")]
    public static partial void Committed(ILogger logger, int count, int records);

    [LoggerMessage(1103, LogLevel.Warning, "Kafka client error (not fatal, the client retries): {Reason}")]
    public static partial void ClientError(ILogger logger, string reason);

    [LoggerMessage(1200, LogLevel.Warning, "First undecodable record of kind '{Kind}' from {Topic}[{Partition}]@{Offset}: {Reason}; further ones are only counted")]
    public static partial void FirstDeadLetterOfKind(ILogger logger, string kind, string topic, int partition, long offset, string reason);

    [LoggerMessage(1201, LogLevel.Information, "Incident {IncidentId} {Event}: {Summary}")]
    public static partial void IncidentEvent(ILogger logger, string incidentId, string @event, string summary);

    [LoggerMessage(1300, LogLevel.Information, "Restored detector state from {Path} ({Bytes} bytes)")]
    public static partial void CheckpointRestored(ILogger logger, string path, long bytes);

    [LoggerMessage(1301, LogLevel.Debug, "Wrote detector state to {Path} ({Bytes} bytes)")]
    public static partial void CheckpointWritten(ILogger logger, string path, long bytes);

    [LoggerMessage(1302, LogLevel.Warning, "Detector state at {Path} could not be read ({Reason}); starting from empty state")]
    public static partial void CheckpointUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(1400, LogLevel.Information, "Serving Prometheus metrics on http://{Endpoint}/metrics")]
    public static partial void MetricsListening(ILogger logger, string endpoint);

    [LoggerMessage(1401, LogLevel.Debug, "Metrics endpoint request failed: {Reason}")]
    public static partial void MetricsRequestFailed(ILogger logger, string reason);

    [LoggerMessage(1500, LogLevel.Information, "Embedded Kafka broker (librdkafka mock cluster, {Brokers} brokers) at {Bootstrap}")]
    public static partial void EmbeddedBrokerStarted(ILogger logger, int brokers, string bootstrap);
}
