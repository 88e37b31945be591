using System.Buffers;

namespace Aiops.Ingestion.Otlp;

/// <summary>Decodes one contiguous payload into a batch.</summary>
internal delegate void PayloadDecoder(ReadOnlySpan<byte> payload, DecodeBatch batch);

/// <summary>Decodes one resource entry of an export request; <paramref name="offset"/> is its byte position in the record.</summary>
internal delegate void ResourceEntryDecoder(ReadOnlySpan<byte> entry, int offset, DecodeBatch batch);

/// <summary>
/// The outer layer shared by OTLP's <c>ExportTraceServiceRequest</c> and
/// <c>ExportMetricsServiceRequest</c>: both are a repeated field 1 of resource entries, so the size
/// guards, the walk over the entries and its error reporting live here once. Callers pass cached
/// delegates (fields built in their constructor), so the per-record path allocates nothing.
/// </summary>
internal static class OtlpExportRequest
{
    /// <summary>Decodes a payload held in a sequence, copied to a pooled buffer when it is not contiguous.</summary>
    public static void Decode(in ReadOnlySequence<byte> payload, DecodeBatch batch, DecodeOptions options, PayloadDecoder decode)
    {
        if (payload.IsSingleSegment)
        {
            decode(payload.FirstSpan, batch);
            return;
        }

        if (payload.Length > options.MaxRecordBytes)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.Oversized, $"record of {payload.Length} bytes exceeds the limit of {options.MaxRecordBytes} bytes"));
            return;
        }

        int length = (int)payload.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(rented);
            decode(rented.AsSpan(0, length), batch);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Walks the resource entries (field 1) of an export request named <paramref name="message"/>,
    /// whose entry field is called <paramref name="entryName"/> in error messages.
    /// </summary>
    public static void Walk(ReadOnlySpan<byte> payload, DecodeBatch batch, DecodeOptions options, string message, string entryName, ResourceEntryDecoder decodeEntry)
    {
        if (!RecordAdmission.Admit(payload, batch, options, $"record is empty (an {message} with no {entryName})", text: false))
        {
            return;
        }

        var r = new ProtoReader(payload);
        while (!r.IsAtEnd)
        {
            int at = r.Position;
            if (!r.TryReadTag(out int field, out int wt))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"{message}: malformed field tag at byte {at}", at));
                return;
            }

            if (field == OtlpFields.RequestResourceEntries)
            {
                if (wt != WireType.LengthDelimited)
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"{message}.{entryName} has wire type {WireType.Name(wt)}, expected LEN", at));
                    if (!r.TrySkip(wt))
                    {
                        return;
                    }

                    continue;
                }

                if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> entry))
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"{message}.{entryName} at byte {at}: length runs past the end of the {payload.Length}-byte record", at));
                    return;
                }

                decodeEntry(entry, r.Position - entry.Length, batch);
            }
            else if (!r.TrySkip(wt))
            {
                batch.Errors.Add(OtlpMetricsDecoder.Skipped(message, field, wt, at));
                return;
            }
        }
    }
}
