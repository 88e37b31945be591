using Aiops.Ingestion;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;

namespace Aiops.Worker.Processing;

/// <summary>
/// Decodes one record into a reusable <see cref="DecodeBatch"/> and hands its good points and
/// spans to the processor; reports the first error (and how many more) when there were any. The
/// batch is allocated once and cleared per record. Single-threaded: the consume loop owns it.
/// </summary>
internal sealed class RecordHandler
{
    private readonly ITelemetryDecoder _decoder;
    private readonly ITelemetryProcessor _processor;
    private readonly WorkerMetrics _metrics;
    private readonly DecodeBatch _batch = new();

    public RecordHandler(ITelemetryDecoder decoder, ITelemetryProcessor processor, WorkerMetrics metrics)
    {
        _decoder = decoder;
        _processor = processor;
        _metrics = metrics;
    }

    /// <summary>Decodes and processes one record; returns the failure when (part of) it could not be decoded.</summary>
    public DecodeOutcome Handle(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload)
    {
        _batch.Clear();
        _metrics.RecordRead(signal == SignalKind.Spans);
        if (payload.IsEmpty)
        {
            return DecodeOutcome.Fail(nameof(DecodeErrorKind.Empty), "The record has no value (null or zero bytes).");
        }

        try
        {
            _decoder.Decode(signal, encoding, payload, _batch);
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException or ArgumentException or InvalidOperationException or OverflowException or IndexOutOfRangeException or System.Text.Json.JsonException)
        {
            // The decoders report failures in the batch; an exception escaping one still must not stop the worker.
            return DecodeOutcome.Fail("DecoderException", $"{ex.GetType().Name}: {ex.Message}");
        }

        var decoded = _batch.Metrics.Count + _batch.Spans.Count;
        _metrics.Decoded(_batch.Metrics.Count, _batch.Spans.Count);
        if (decoded > 0)
        {
            _processor.Process(_batch.Metrics, _batch.Spans);
        }

        if (_batch.Errors.Count == 0)
        {
            return DecodeOutcome.Ok;
        }

        var first = _batch.Errors[0];
        var reason = _batch.Errors.Count == 1 ? first.ToString() : $"{first} (and {_batch.Errors.Count - 1} more errors in this record)";
        return DecodeOutcome.Fail(first.Kind.ToString(), reason, partial: decoded > 0);
    }
}
