using Aiops.Ingestion.JsonLines;
using Aiops.Ingestion.Otlp;

namespace Aiops.Ingestion;

/// <summary>How a Kafka record's bytes are encoded.</summary>
public enum PayloadFormat : byte
{
    /// <summary>OTLP protobuf (the Collector Kafka exporter's default <c>otlp_proto</c>).</summary>
    OtlpProtobuf = 0,

    /// <summary>OTLP/JSON (<c>otlp_json</c>).</summary>
    OtlpJson = 1,

    /// <summary>Our JSON-lines format (metrics and spans mixed, one object per line).</summary>
    JsonLines = 2,
}

/// <summary>
/// One entry point for the worker: decodes a record of a metrics or a traces topic in any
/// supported format into a <see cref="DecodeBatch"/>, with one decoder per signal so cumulative
/// state and intern caches persist across records. <see cref="Detect"/> tells the formats apart
/// from the first bytes: an OTLP protobuf request starts with field 1 (byte <c>0x0A</c>), never
/// with <c>{</c> (which would be field 15 with the unused group wire type). Not thread-safe: one
/// per consumer (or per partition, to keep cumulative state partition-local).
/// </summary>
public sealed class TelemetryDecoder
{
    private readonly OtlpMetricsDecoder _metrics;
    private readonly OtlpTraceDecoder _traces;
    private readonly JsonLinesReader _jsonLines;

    /// <summary>Creates the decoders with shared limits (defaults when null).</summary>
    public TelemetryDecoder(DecodeOptions? options = null)
    {
        _metrics = new OtlpMetricsDecoder(options);
        _traces = new OtlpTraceDecoder(options);
        _jsonLines = new JsonLinesReader(options);
    }

    /// <summary>The metrics decoder (cumulative state lives here).</summary>
    public OtlpMetricsDecoder Metrics => _metrics;

    /// <summary>The traces decoder.</summary>
    public OtlpTraceDecoder Traces => _traces;

    /// <summary>Guesses the format: JSON text containing <c>resourceMetrics</c>/<c>resourceSpans</c> near the start is OTLP/JSON, other JSON is JSON lines, anything else protobuf.</summary>
    public static PayloadFormat Detect(ReadOnlySpan<byte> payload)
    {
        ReadOnlySpan<byte> trimmed = payload.TrimStart(" \t\r\n"u8);
        if (trimmed.IsEmpty || trimmed[0] != (byte)'{')
        {
            return PayloadFormat.OtlpProtobuf;
        }

        ReadOnlySpan<byte> head = trimmed[..Math.Min(trimmed.Length, 256)];
        return head.IndexOf("\"resourceMetrics\""u8) >= 0 || head.IndexOf("\"resourceSpans\""u8) >= 0 ||
               head.IndexOf("\"resource_metrics\""u8) >= 0 || head.IndexOf("\"resource_spans\""u8) >= 0
            ? PayloadFormat.OtlpJson
            : PayloadFormat.JsonLines;
    }

    /// <summary>Decodes a record of the metrics topic. JSON lines may carry spans too; they land in <see cref="DecodeBatch.Spans"/>.</summary>
    public void DecodeMetrics(ReadOnlySpan<byte> payload, PayloadFormat format, DecodeBatch batch)
    {
        switch (format)
        {
            case PayloadFormat.OtlpJson: _metrics.DecodeJson(payload, batch); break;
            case PayloadFormat.JsonLines: _jsonLines.Decode(payload, batch); break;
            default: _metrics.Decode(payload, batch); break;
        }
    }

    /// <summary>Decodes a record of the traces topic.</summary>
    public void DecodeTraces(ReadOnlySpan<byte> payload, PayloadFormat format, DecodeBatch batch)
    {
        switch (format)
        {
            case PayloadFormat.OtlpJson: _traces.DecodeJson(payload, batch); break;
            case PayloadFormat.JsonLines: _jsonLines.Decode(payload, batch); break;
            default: _traces.Decode(payload, batch); break;
        }
    }
}
