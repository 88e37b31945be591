using Aiops.Core;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;

namespace Aiops.Worker.Processing;

/// <summary>
/// Decodes one record into reusable buffers and, only when the whole record decoded, hands its
/// points and spans to the processor: a record that fails half-way feeds nothing, so its dead
/// letter is the only trace it leaves. Buffers are allocated once and cleared per record.
/// Single-threaded: the consume loop owns it.
/// </summary>
internal sealed class RecordHandler : ITelemetrySink
{
    private readonly ITelemetryDecoder _decoder;
    private readonly ITelemetryProcessor _processor;
    private readonly WorkerMetrics _metrics;
    private readonly List<MetricPoint> _points = new(1024);
    private readonly List<SpanRecord> _spans = new(256);

    public RecordHandler(ITelemetryDecoder decoder, ITelemetryProcessor processor, WorkerMetrics metrics)
    {
        _decoder = decoder;
        _processor = processor;
        _metrics = metrics;
    }

    /// <summary>Decodes and processes one record; returns the failure when it could not be decoded.</summary>
    public DecodeOutcome Handle(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload)
    {
        _points.Clear();
        _spans.Clear();
        _metrics.RecordRead(signal == SignalKind.Spans);
        DecodeOutcome outcome;
        if (payload.IsEmpty)
        {
            outcome = DecodeOutcome.Fail("empty", "The record has no value (null or zero bytes).");
        }
        else
        {
            try
            {
                outcome = _decoder.Decode(signal, encoding, payload, this);
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or ArgumentException or InvalidOperationException or OverflowException or System.Text.Json.JsonException or Google.Protobuf.InvalidProtocolBufferException)
            {
                // The decoder is meant to report failures; an exception escaping it still must not stop the worker.
                outcome = DecodeOutcome.Fail("decoder-exception", $"{ex.GetType().Name}: {ex.Message}");
            }
        }

        if (!outcome.Success)
        {
            return outcome;
        }

        _metrics.Decoded(_points.Count, _spans.Count);
        if (_points.Count > 0 || _spans.Count > 0)
        {
            _processor.Process(_points, _spans);
        }

        return outcome;
    }

    void ITelemetrySink.OnMetric(in MetricPoint point) => _points.Add(point);

    void ITelemetrySink.OnSpan(in SpanRecord span) => _spans.Add(span);
}
