using Aiops.Ingestion;
using Aiops.Ingestion.Jaeger;
using Aiops.Ingestion.JsonLines;
using Aiops.Ingestion.Otlp;
using Aiops.Ingestion.Zipkin;
using Aiops.Worker.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// The production decoder: ingestion's OTLP protobuf / OTLP JSON decoders per signal, the
/// JSON-lines reader, and for the spans topic the Jaeger (protobuf, JSON) and Zipkin JSON v2
/// decoders, selected by the topic's encoding setting. One instance per consume loop: the metrics
/// decoder keeps per-series cumulative state (rates from cumulative sums need the previous point),
/// so it must see every record of its partitions, in order.
/// </summary>
internal sealed class IngestionDecoder : ITelemetryDecoder
{
    private readonly OtlpMetricsDecoder _metrics = new();
    private readonly OtlpTraceDecoder _traces = new();
    private readonly JsonLinesReader _lines = new();
    private readonly JaegerProtobufDecoder _jaegerProtobuf = new();
    private readonly JaegerJsonDecoder _jaegerJson = new();
    private readonly ZipkinJsonDecoder _zipkin = new();

    /// <inheritdoc/>
    public void Decode(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        if (signal == SignalKind.Metrics && !encoding.CarriesMetrics())
        {
            // Start-up validation rejects this setting; a decoder built without it must still not guess.
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"encoding {encoding} carries spans only and cannot be read from the metrics topic"));
            return;
        }

        switch (encoding)
        {
            case TopicEncoding.OtlpProtobuf when signal == SignalKind.Metrics:
                _metrics.Decode(payload, batch);
                break;
            case TopicEncoding.OtlpProtobuf:
                _traces.Decode(payload, batch);
                break;
            case TopicEncoding.OtlpJson when signal == SignalKind.Metrics:
                _metrics.DecodeJson(payload, batch);
                break;
            case TopicEncoding.OtlpJson:
                _traces.DecodeJson(payload, batch);
                break;
            case TopicEncoding.JaegerProtobuf:
                _jaegerProtobuf.Decode(payload, batch);
                break;
            case TopicEncoding.JaegerJson:
                _jaegerJson.Decode(payload, batch);
                break;
            case TopicEncoding.ZipkinJson:
                _zipkin.Decode(payload, batch);
                break;
            default:
                _lines.Decode(payload, batch);
                break;
        }
    }
}
