using Aiops.Ingestion;
using Aiops.Ingestion.JsonLines;
using Aiops.Ingestion.Otlp;
using Aiops.Worker.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// The production decoder: ingestion's OTLP protobuf / OTLP JSON decoders per signal and the
/// JSON-lines reader, selected by the topic's encoding setting. One instance per consume loop:
/// the metrics decoder keeps per-series cumulative state (rates from cumulative sums need the
/// previous point), so it must see every record of its partitions, in order.
/// </summary>
internal sealed class IngestionDecoder : ITelemetryDecoder
{
    private readonly OtlpMetricsDecoder _metrics = new();
    private readonly OtlpTraceDecoder _traces = new();
    private readonly JsonLinesReader _lines = new();

    /// <inheritdoc/>
    public void Decode(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
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
            default:
                _lines.Decode(payload, batch);
                break;
        }
    }
}
