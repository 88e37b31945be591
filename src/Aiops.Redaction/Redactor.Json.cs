using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Aiops.Redaction;

/// <summary>Outcome of redacting one JSON document.</summary>
/// <param name="Success">True when the whole document was read and rewritten.</param>
/// <param name="Error">Why the document could not be read (null on success).</param>
/// <param name="ErrorOffset">Byte offset of the error in the input (-1 on success).</param>
public readonly record struct JsonRedactionResult(bool Success, string? Error, long ErrorOffset)
{
    internal static JsonRedactionResult Ok { get; } = new(true, null, -1);
}

public sealed partial class Redactor
{
    /// <summary>
    /// 64 levels: System.Text.Json's default, and deeper than any incident or OTLP JSON record
    /// (OTLP nests ~8 levels); a deeper document is rejected rather than walked.
    /// </summary>
    private const int MaxJsonDepth = 64;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Relaxed escaping keeps non-ASCII text readable on the topic; the output is JSON for
        // consumers, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        MaxDepth = MaxJsonDepth,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>
    /// Rewrites a UTF-8 JSON document with every string value (and member name) pattern-masked,
    /// and, inside members named in <see cref="RedactionOptions.AttributeObjectNames"/>, every
    /// value whose key is not allowed replaced by the marker. Attribute bags may be objects
    /// (<c>{"k":"v"}</c>) or arrays of <c>{"key":…, …}</c> objects (OTLP / Jaeger JSON). Numbers
    /// that are Luhn-valid card numbers become <c>"[CARD]"</c>. Never throws on bad input: the
    /// result says why, and the partial output in <paramref name="output"/> must be discarded.
    /// </summary>
    public JsonRedactionResult RedactJson(ReadOnlySpan<byte> utf8Json, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        try
        {
            if (!reader.Read())
            {
                Counters.AddInvalidJson();
                return new JsonRedactionResult(false, "The document is empty.", 0);
            }

            WriteValue(ref reader, writer, bagName: false);
            if (reader.Read())
            {
                Counters.AddInvalidJson();
                return new JsonRedactionResult(false, "Data after the end of the JSON value.", reader.TokenStartIndex);
            }

            writer.Flush();
            return JsonRedactionResult.Ok;
        }
        catch (JsonException ex)
        {
            Counters.AddInvalidJson();
            return new JsonRedactionResult(false, "Invalid JSON: " + ex.Message, reader.BytesConsumed);
        }
        catch (InvalidOperationException ex)
        {
            // Utf8JsonReader reports invalid UTF-8 inside strings this way.
            Counters.AddInvalidJson();
            return new JsonRedactionResult(false, "Invalid JSON text: " + ex.Message, reader.BytesConsumed);
        }
    }

    /// <summary>Convenience form of <see cref="RedactJson(ReadOnlySpan{byte}, IBufferWriter{byte})"/> returning the bytes.</summary>
    public bool TryRedactJson(ReadOnlySpan<byte> utf8Json, out byte[] redacted, out string? error)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(256, utf8Json.Length + 64));
        var result = RedactJson(utf8Json, buffer);
        if (!result.Success)
        {
            redacted = [];
            error = result.Error;
            return false;
        }

        redacted = buffer.WrittenSpan.ToArray();
        error = null;
        return true;
    }

    /// <summary>
    /// Redacts an opaque payload (a dead letter's original bytes) as well as its form allows:
    /// a JSON document, or JSON lines, are redacted as JSON; other valid UTF-8 text is
    /// pattern-masked; anything else (protobuf) has every printable ASCII run of 6+ bytes
    /// pattern-masked with <c>*</c> of the same length, so the framing around the text keeps
    /// its lengths. A JSON line that cannot be parsed is pattern-masked as text.
    /// </summary>
    public byte[] RedactPayload(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return [];
        }

        if (Utf8.IsValid(payload) && IsText(payload))
        {
            var trimmed = payload.TrimStart(" \t\r\n"u8);
            if (!trimmed.IsEmpty && trimmed[0] is (byte)'{' or (byte)'[')
            {
                return RedactJsonLines(payload);
            }

            return Encoding.UTF8.GetBytes(Mask(Encoding.UTF8.GetString(payload), sameLength: false));
        }

        return RedactBinary(payload);
    }

    private byte[] RedactJsonLines(ReadOnlySpan<byte> payload)
    {
        // A single document first (the common case, and a pretty-printed one spans many lines).
        var buffer = new ArrayBufferWriter<byte>(payload.Length + 64);
        var single = new Utf8JsonReader(payload, ReaderOptions);
        bool isSingle;
        try
        {
            isSingle = single.Read() && single.TrySkip() && !single.Read();
        }
        catch (JsonException)
        {
            isSingle = false;
        }

        if (isSingle && RedactJson(payload, buffer).Success)
        {
            return buffer.WrittenSpan.ToArray();
        }

        buffer.ResetWrittenCount();
        var rest = payload;
        while (!rest.IsEmpty)
        {
            int nl = rest.IndexOf((byte)'\n');
            var line = nl < 0 ? rest : rest[..nl];
            rest = nl < 0 ? default : rest[(nl + 1)..];
            if (!line.Trim(" \t\r"u8).IsEmpty)
            {
                var lineBuffer = new ArrayBufferWriter<byte>(line.Length + 64);
                if (RedactJson(line, lineBuffer).Success)
                {
                    buffer.Write(lineBuffer.WrittenSpan);
                }
                else
                {
                    buffer.Write(Encoding.UTF8.GetBytes(Mask(Encoding.UTF8.GetString(line), sameLength: false)));
                }
            }

            if (nl >= 0)
            {
                buffer.Write("\n"u8);
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool IsText(ReadOnlySpan<byte> payload)
    {
        foreach (byte b in payload)
        {
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Shortest printable run worth scanning: no pattern matches fewer than 6 characters ("1.2.3.4" is 7, "::1" is caught only in text).</summary>
    private const int MinBinaryRun = 6;

    private byte[] RedactBinary(ReadOnlySpan<byte> payload)
    {
        byte[] copy = payload.ToArray();
        int i = 0;
        while (i < copy.Length)
        {
            if (copy[i] is < 0x20 or > 0x7E)
            {
                i++;
                continue;
            }

            int start = i;
            while (i < copy.Length && copy[i] is >= 0x20 and <= 0x7E)
            {
                i++;
            }

            if (i - start < MinBinaryRun)
            {
                continue;
            }

            string run = Encoding.ASCII.GetString(copy, start, i - start);
            string masked = Mask(run, sameLength: true);
            if (!ReferenceEquals(masked, run))
            {
                Encoding.ASCII.GetBytes(masked, 0, masked.Length, copy, start);
            }
        }

        return copy;
    }

    /// <summary>Writes the value the reader is on (and everything under it), redacted.</summary>
    private void WriteValue(ref Utf8JsonReader reader, Utf8JsonWriter writer, bool bagName)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                WriteObject(ref reader, writer, isBag: bagName);
                break;
            case JsonTokenType.StartArray:
                WriteArray(ref reader, writer, isBagArray: bagName);
                break;
            case JsonTokenType.String:
                writer.WriteStringValue(Mask(reader.GetString()!, sameLength: false));
                break;
            case JsonTokenType.Number:
                WriteNumber(ref reader, writer);
                break;
            case JsonTokenType.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonTokenType.False:
                writer.WriteBooleanValue(false);
                break;
            case JsonTokenType.Null:
                writer.WriteNullValue();
                break;
            default:
                throw new JsonException($"Unexpected token {reader.TokenType}.");
        }

    }

    private void WriteNumber(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        if (_options.MaskCardNumbers && raw.Length is >= MinCardDigits and <= MaxCardDigits && raw[0] is >= (byte)'2' and <= (byte)'6')
        {
            Span<char> digits = stackalloc char[MaxCardDigits];
            bool allDigits = true;
            for (int i = 0; i < raw.Length; i++)
            {
                if (raw[i] is < (byte)'0' or > (byte)'9')
                {
                    allDigits = false;
                    break;
                }

                digits[i] = (char)raw[i];
            }

            if (allDigits && Luhn.IsValid(digits[..raw.Length]))
            {
                Counters.AddCards(1);
                writer.WriteStringValue(CardMarker);
                return;
            }
        }

        writer.WriteRawValue(raw, skipInputValidation: true);
    }

    private void WriteObject(ref Utf8JsonReader reader, Utf8JsonWriter writer, bool isBag)
    {
        writer.WriteStartObject();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            writer.WritePropertyName(Mask(name, sameLength: false));
            reader.Read();
            if (isBag && !IsAllowed(name))
            {
                Counters.AddValueByKey();
                reader.Skip();
                writer.WriteStringValue(_options.Marker);
                continue;
            }

            WriteValue(ref reader, writer, bagName: !isBag && _attributeObjectNames.Contains(name));
        }

        writer.WriteEndObject();
    }

    private void WriteArray(ref Utf8JsonReader reader, Utf8JsonWriter writer, bool isBagArray)
    {
        writer.WriteStartArray();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (isBagArray && reader.TokenType == JsonTokenType.StartObject)
            {
                WriteKeyedAttribute(ref reader, writer);
            }
            else
            {
                WriteValue(ref reader, writer, bagName: false);
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// One element of an attribute array, <c>{"key":"k","value":{…}}</c> (OTLP JSON) or
    /// <c>{"key":"k","vStr":"v"}</c> (Jaeger JSON). The key may come after the value, so the
    /// element is parsed whole first (it is small); a disallowed key keeps its <c>key</c> and has
    /// every other member replaced by the marker.
    /// </summary>
    private void WriteKeyedAttribute(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        using var element = JsonDocument.ParseValue(ref reader);
        var root = element.RootElement;
        bool allowed = !root.TryGetProperty("key", out var keyElement)
            || keyElement.ValueKind != JsonValueKind.String
            || IsAllowed(keyElement.GetString()!);
        if (!allowed)
        {
            Counters.AddValueByKey();
        }

        writer.WriteStartObject();
        foreach (var member in root.EnumerateObject())
        {
            writer.WritePropertyName(Mask(member.Name, sameLength: false));
            if (member.NameEquals("key"))
            {
                WriteElement(member.Value, writer);
            }
            else if (allowed)
            {
                WriteElement(member.Value, writer);
            }
            else
            {
                writer.WriteStringValue(_options.Marker);
            }
        }

        writer.WriteEndObject();
    }

    private void WriteElement(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var member in element.EnumerateObject())
                {
                    writer.WritePropertyName(Mask(member.Name, sameLength: false));
                    WriteElement(member.Value, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteElement(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(Mask(element.GetString()!, sameLength: false));
                break;
            case JsonValueKind.Number:
                var bytes = Encoding.UTF8.GetBytes(element.GetRawText());
                var inner = new Utf8JsonReader(bytes);
                inner.Read();
                WriteNumber(ref inner, writer);
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
