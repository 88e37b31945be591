namespace Aiops.Ingestion;

/// <summary>
/// The two checks every record decoder makes before reading a byte of a record: an empty record
/// and one over <see cref="DecodeOptions.MaxRecordBytes"/> are errors of their own kind (counted and
/// dead-lettered by the worker), never handed to a parser.
/// </summary>
internal static class RecordAdmission
{
    private static readonly byte[] JsonWhitespace = " \t\r\n"u8.ToArray();

    /// <summary>
    /// True when <paramref name="payload"/> may be decoded; otherwise adds the
    /// <see cref="DecodeErrorKind.Empty"/> (with <paramref name="emptyReason"/>) or
    /// <see cref="DecodeErrorKind.Oversized"/> error at position 0 and returns false.
    /// </summary>
    /// <param name="payload">The record's bytes.</param>
    /// <param name="batch">Where the error goes.</param>
    /// <param name="options">The size limit.</param>
    /// <param name="emptyReason">The reason given for an empty record, naming what the format expects.</param>
    /// <param name="text">A JSON format: a record of only white space counts as empty.</param>
    public static bool Admit(ReadOnlySpan<byte> payload, DecodeBatch batch, DecodeOptions options, string emptyReason, bool text)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (text ? payload.Trim(JsonWhitespace).IsEmpty : payload.IsEmpty)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.Empty, emptyReason, 0));
            return false;
        }

        if (payload.Length > options.MaxRecordBytes)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.Oversized, $"record of {payload.Length} bytes exceeds the limit of {options.MaxRecordBytes} bytes", 0));
            return false;
        }

        return true;
    }
}
