namespace Aiops.Ingestion;

/// <summary>
/// Why a record (or part of one) could not be decoded. The worker sends the original bytes of a
/// failed record to the dead-letter topic with this kind and <see cref="DecodeError.Reason"/> in
/// headers, and counts failures per kind, so the set is small and stable.
/// </summary>
public enum DecodeErrorKind : byte
{
    /// <summary>The record had no bytes (or only whitespace).</summary>
    Empty = 0,

    /// <summary>The record is larger than <see cref="DecodeOptions.MaxRecordBytes"/>.</summary>
    Oversized = 1,

    /// <summary>A protobuf message ended inside a field, or a length prefix points past its parent.</summary>
    Truncated = 2,

    /// <summary>A protobuf field arrived with a wire type its schema does not allow (or an invalid wire type).</summary>
    WrongWireType = 3,

    /// <summary>The text is not well-formed JSON (or a CSV row has the wrong shape).</summary>
    MalformedJson = 4,

    /// <summary>A required field is absent (e.g. a metric without a name, a span without ids).</summary>
    MissingField = 5,

    /// <summary>A field is present but its value has the wrong type or cannot be parsed.</summary>
    InvalidValue = 6,

    /// <summary>A numeric value is NaN or infinite.</summary>
    NonFiniteValue = 7,

    /// <summary>A timestamp is outside the accepted window (see <see cref="DecodeOptions"/>).</summary>
    TimestampOutOfRange = 8,

    /// <summary>A string is not valid UTF-8.</summary>
    InvalidUtf8 = 9,

    /// <summary>An enum field holds a value the schema does not define.</summary>
    UnknownEnumValue = 10,

    /// <summary>A point has more labels than allowed, or a label value is too long.</summary>
    LabelLimitExceeded = 11,

    /// <summary>A trace or span id has the wrong length or is not hex.</summary>
    InvalidId = 12,

    /// <summary>A JSON-lines record whose <c>type</c> is neither <c>metric</c> nor <c>span</c>.</summary>
    UnknownRecordType = 13,

    /// <summary>The decoder tracks too many cumulative series; the point's series was not admitted.</summary>
    SeriesLimitExceeded = 14,
}

/// <summary>
/// One decode failure: its kind, a sentence naming the field and what was wrong, and where
/// (line number for text formats, byte offset inside the payload for protobuf; -1 when unknown).
/// Allocated only on the error path.
/// </summary>
/// <param name="Kind">The failure class, for counters and dead-letter headers.</param>
/// <param name="Reason">Human-readable reason: field, value and what was expected.</param>
/// <param name="Position">Line number (1-based) for JSON lines and CSV, byte offset for protobuf, -1 if unknown.</param>
public readonly record struct DecodeError(DecodeErrorKind Kind, string Reason, long Position = -1)
{
    /// <inheritdoc/>
    public override string ToString() => Position >= 0 ? $"{Kind} at {Position}: {Reason}" : $"{Kind}: {Reason}";
}
