using System.Globalization;
using Aiops.Ingestion;
using Aiops.Worker.Options;
using Aiops.Worker.Telemetry;
using Microsoft.Extensions.Options;

namespace Aiops.Worker.Processing;

/// <summary>
/// Decodes one record into a reusable <see cref="DecodeBatch"/> and hands its good points and
/// spans to the processor; reports the first error (and how many more) when there were any. The
/// batch is allocated once and cleared per record. Single-threaded: the consume loop owns it.
/// </summary>
/// <remarks>
/// A record must never stop the loop: one that would (too large, or one that makes the decoder or
/// the processor throw) is reported as a failure, so it goes to the dead-letter topic and its
/// offset is committed like any other. Otherwise a restarted worker would read it again, fail
/// again, and the partition would be blocked for good (a poison record).
/// </remarks>
internal sealed class RecordHandler
{
    /// <summary>Error kind of a record larger than <see cref="LimitsOptions.MaxRecordBytes"/>.</summary>
    internal const string OversizedKind = nameof(DecodeErrorKind.Oversized);

    /// <summary>Error kind of a record whose decoding threw.</summary>
    internal const string DecoderExceptionKind = "DecoderException";

    /// <summary>Error kind of a record whose decoded points or spans made the processor throw.</summary>
    internal const string ProcessingExceptionKind = "ProcessingException";

    private readonly ITelemetryDecoder _decoder;
    private readonly ITelemetryProcessor _processor;
    private readonly WorkerMetrics _metrics;
    private readonly int _maxRecordBytes;
    private readonly DecodeBatch _batch = new();

    public RecordHandler(ITelemetryDecoder decoder, ITelemetryProcessor processor, WorkerMetrics metrics, IOptions<LimitsOptions> limits)
    {
        _decoder = decoder;
        _processor = processor;
        _metrics = metrics;
        _maxRecordBytes = limits.Value.MaxRecordBytes;
    }

    /// <summary>Decodes and processes one record; returns the failure when (part of) it could not be decoded.</summary>
    public DecodeOutcome Handle(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload) => Handle(signal, encoding, payload, _processor);

    /// <summary>As above, feeding <paramref name="processor"/> (the record's partition's own, with <c>Checkpoint:Scope=Partition</c>).</summary>
    public DecodeOutcome Handle(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload, ITelemetryProcessor processor)
    {
        ArgumentNullException.ThrowIfNull(processor);
        _batch.Clear();
        _metrics.RecordRead(signal == SignalKind.Spans);
        if (payload.IsEmpty)
        {
            return DecodeOutcome.Fail(nameof(DecodeErrorKind.Empty), "The record has no value (null or zero bytes).");
        }

        if (payload.Length > _maxRecordBytes)
        {
            return DecodeOutcome.Fail(OversizedKind, string.Create(CultureInfo.InvariantCulture, $"The record has {payload.Length} bytes, more than Limits:MaxRecordBytes={_maxRecordBytes}; not decoded."));
        }

        try
        {
            _decoder.Decode(signal, encoding, payload, _batch);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The decoders report failures in the batch; an exception escaping one still must not stop the worker.
            return DecodeOutcome.Fail(DecoderExceptionKind, $"{ex.GetType().Name}: {ex.Message}");
        }

        var decoded = _batch.Metrics.Count + _batch.Spans.Count;
        _metrics.Decoded(_batch.Metrics.Count, _batch.Spans.Count);
        if (decoded > 0)
        {
            try
            {
                processor.Process(_batch.Metrics, _batch.Spans, _batch.Exemplars);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The points before the failing one were processed; the record is kept in the
                // dead-letter topic (partial) so nothing disappears silently.
                return DecodeOutcome.Fail(ProcessingExceptionKind, $"{ex.GetType().Name}: {ex.Message}", partial: true);
            }
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
