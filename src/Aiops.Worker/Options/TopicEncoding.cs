namespace Aiops.Worker.Options;

/// <summary>
/// How the records of one input topic are encoded. The defaults follow the OpenTelemetry
/// Collector's Kafka exporter, which writes OTLP protobuf unless told otherwise.
/// </summary>
public enum TopicEncoding
{
    /// <summary>OTLP <c>Export…ServiceRequest</c> messages in protobuf binary form (the exporter's default).</summary>
    OtlpProtobuf = 0,

    /// <summary>OTLP <c>Export…ServiceRequest</c> messages in the OTLP JSON mapping.</summary>
    OtlpJson = 1,

    /// <summary>Our JSON-lines format: one metric point or span object per line.</summary>
    JsonLines = 2,
}

/// <summary>Which signal a topic carries; it selects the OTLP message type to decode.</summary>
public enum SignalKind
{
    /// <summary><c>ExportMetricsServiceRequest</c> (or metric lines).</summary>
    Metrics = 0,

    /// <summary><c>ExportTraceServiceRequest</c> (or span lines).</summary>
    Spans = 1,
}
