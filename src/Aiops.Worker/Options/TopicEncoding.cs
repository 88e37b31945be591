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

    /// <summary>
    /// Jaeger's Kafka span format in protobuf: one <c>jaeger.api_v2.Span</c> per record, its
    /// process embedded (Jaeger's Kafka pipeline, and the Collector's Kafka exporter with
    /// <c>encoding: jaeger_proto</c>). Spans only.
    /// </summary>
    JaegerProtobuf = 3,

    /// <summary>The same Jaeger span in the protobuf JSON mapping (the exporter's <c>jaeger_json</c>). Spans only.</summary>
    JaegerJson = 4,

    /// <summary>Zipkin API v2 JSON: an array of spans per record (<c>zipkin_json</c>, Zipkin's Kafka collector format). Spans only.</summary>
    ZipkinJson = 5,
}

/// <summary>Which signal a topic carries; it selects the OTLP message type to decode.</summary>
public enum SignalKind
{
    /// <summary><c>ExportMetricsServiceRequest</c> (or metric lines).</summary>
    Metrics = 0,

    /// <summary><c>ExportTraceServiceRequest</c> (or span lines).</summary>
    Spans = 1,
}

/// <summary>What each <see cref="TopicEncoding"/> can carry.</summary>
public static class TopicEncodings
{
    /// <summary>True for the encodings that can carry metric points (OTLP and JSON lines); Jaeger and Zipkin carry spans only.</summary>
    public static bool CarriesMetrics(this TopicEncoding encoding) =>
        encoding is TopicEncoding.OtlpProtobuf or TopicEncoding.OtlpJson or TopicEncoding.JsonLines;
}

/// <summary>
/// Rejects a span-only encoding (Jaeger, Zipkin) on the metrics topic at start, instead of
/// dead-lettering every metrics record at run time.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MetricsEncodingAttribute : System.ComponentModel.DataAnnotations.ValidationAttribute
{
    /// <summary>Creates the attribute with its message.</summary>
    public MetricsEncodingAttribute()
        : base("The field {0} must be OtlpProtobuf, OtlpJson or JsonLines: JaegerProtobuf, JaegerJson and ZipkinJson carry spans only.")
    {
    }

    /// <inheritdoc/>
    public override bool IsValid(object? value) => value is not TopicEncoding encoding || encoding.CarriesMetrics();
}
