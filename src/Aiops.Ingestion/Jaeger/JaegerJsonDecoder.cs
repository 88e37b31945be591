using System.Globalization;
using System.Text.Json;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.Jaeger;

/// <summary>
/// Decodes one Jaeger span in the protobuf JSON mapping of <c>jaeger.api_v2.Span</c> — the
/// record format of the Collector's Kafka exporter with encoding <c>jaeger_json</c> and of
/// Jaeger's Kafka pipeline in JSON mode. The proto3 JSON mapping fixes the forms:
/// field names in lowerCamelCase (<c>traceId</c>, <c>operationName</c>; the original snake_case
/// names are accepted too), <c>bytes</c> ids as base64 (16 bytes for the trace id, 8 for a span
/// id; Jaeger's ids also marshal this way), enums by name (<c>CHILD_OF</c>, <c>INT64</c>) or number,
/// 64-bit integers as strings or numbers, <c>startTime</c> as an RFC 3339 timestamp with up to 9
/// fractional digits, <c>duration</c> as seconds with an <c>s</c> suffix (<c>"0.001500s"</c>),
/// and default values omitted (an absent <c>refType</c> is <c>CHILD_OF</c>, an absent
/// <c>vType</c> is <c>STRING</c>). Leniencies, for hand-written and UI-exported spans: ids as
/// 32/16 hex digits, and <c>startTime</c>/<c>duration</c> as plain numbers of microseconds.
/// Mapping rules are those of <see cref="JaegerSpanParts"/>. Never throws on bad input.
/// Not thread-safe.
/// </summary>
public sealed class JaegerJsonDecoder
{
    private readonly DecodeOptions _options;
    private readonly StringInternCache _intern;
    private readonly TimestampGuard _timestamps;
    private readonly JaegerSpanParts _parts = new();
    private readonly List<(UInt128 Trace, ulong Span, int Type)> _references = new(4);

    /// <summary>Creates a decoder with the given limits (defaults when null).</summary>
    public JaegerJsonDecoder(DecodeOptions? options = null)
    {
        _options = options ?? DecodeOptions.Default;
        _intern = new StringInternCache(_options.InternCacheCapacity);
        _timestamps = new TimestampGuard(_options);
    }

    /// <summary>Decodes one JSON span object into <paramref name="batch"/>.</summary>
    public void Decode(ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        if (!RecordAdmission.Admit(payload, batch, _options, "Jaeger JSON span record is empty", text: true))
        {
            return;
        }

        _parts.Reset();
        _references.Clear();
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.MalformedJson, $"Jaeger JSON span starts with {reader.TokenType}, expected an object", reader.TokenStartIndex));
                return;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string property = reader.GetString()!;
                reader.Read();
                ReadSpanProperty(ref reader, property);
            }

            if (reader.Read())
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.MalformedJson, "data after the end of the Jaeger JSON span", reader.TokenStartIndex));
                return;
            }
        }
        catch (JsonException ex)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MalformedJson, "Jaeger JSON span is not well-formed JSON: " + ex.Message, reader.BytesConsumed));
            return;
        }
        catch (InvalidOperationException ex)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, "Jaeger JSON span has invalid text: " + ex.Message, reader.BytesConsumed));
            return;
        }

        foreach (var (trace, span, type) in _references)
        {
            _parts.AddReference(trace, span, type, _parts.TraceId);
        }

        _parts.Emit(batch, _timestamps, "JSON", 0);
    }

    private void Fail(string problem) => _parts.Error ??= problem;

    private void ReadSpanProperty(ref Utf8JsonReader reader, string property)
    {
        switch (property)
        {
            case "traceId" or "trace_id":
                _parts.TraceIdValid = TryReadId(ref reader, 16, out UInt128 traceId);
                _parts.TraceId = traceId;
                break;
            case "spanId" or "span_id":
                _parts.SpanIdValid = TryReadId(ref reader, 8, out UInt128 spanId);
                _parts.SpanId = (ulong)spanId;
                break;
            case "operationName" or "operation_name":
                _parts.Name = ReadString(ref reader, property, intern: true) ?? "";
                break;
            case "references":
                ReadArray(ref reader, property, static (JaegerJsonDecoder self, ref Utf8JsonReader r) => self.ReadReference(ref r));
                break;
            case "startTime" or "start_time":
                _parts.StartNanos = ReadTime(ref reader, property, isDuration: false);
                break;
            case "duration":
                _parts.DurationNanos = ReadTime(ref reader, property, isDuration: true);
                break;
            case "tags":
                ReadArray(ref reader, property, static (JaegerJsonDecoder self, ref Utf8JsonReader r) =>
                {
                    if (self.ReadKeyValue(ref r, out string key, out string text))
                    {
                        self._parts.Fields.AddTag(key, text, errorMeansFailed: false);
                    }
                });
                break;
            case "process":
                ReadProcess(ref reader);
                break;
            default:
                reader.Skip();
                break;
        }
    }

    private delegate void ElementReader(JaegerJsonDecoder self, ref Utf8JsonReader reader);

    private void ReadArray(ref Utf8JsonReader reader, string property, ElementReader element)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            Fail($"{property} is a {reader.TokenType}, expected an array");
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                Fail($"{property} holds a {reader.TokenType}, expected objects");
                reader.Skip();
                continue;
            }

            element(this, ref reader);
        }
    }

    private void ReadReference(ref Utf8JsonReader reader)
    {
        UInt128 trace = 0, span = 0;
        int type = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "traceId" or "trace_id":
                    if (!TryReadId(ref reader, 16, out trace))
                    {
                        Fail("references: traceId is not a 16-byte id");
                    }

                    break;
                case "spanId" or "span_id":
                    if (!TryReadId(ref reader, 8, out span))
                    {
                        Fail("references: spanId is not an 8-byte id");
                    }

                    break;
                case "refType" or "ref_type":
                    type = ReadEnum(ref reader, name, ["CHILD_OF", "FOLLOWS_FROM"]);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (type >= 0)
        {
            _references.Add((trace, (ulong)span, type));
        }
    }

    private void ReadProcess(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            Fail($"process is a {reader.TokenType}, expected an object");
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "serviceName" or "service_name":
                    _parts.Service = ReadString(ref reader, "process.serviceName", intern: true);
                    break;
                case "tags":
                    ReadArray(ref reader, "process.tags", static (JaegerJsonDecoder self, ref Utf8JsonReader r) =>
                    {
                        if (self.ReadKeyValue(ref r, out string key, out string text))
                        {
                            self._parts.AddProcessTag(key, text);
                        }
                    });
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
    }

    private bool ReadKeyValue(ref Utf8JsonReader reader, out string key, out string text)
    {
        key = "";
        text = "";
        int type = (int)JaegerValueType.String;
        string? s = null;
        bool b = false;
        long i = 0;
        double d = 0;
        byte[]? binary = null;
        bool ok = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "key":
                    key = ReadString(ref reader, "tag key", intern: true) ?? "";
                    break;
                case "vType" or "v_type":
                    type = ReadEnum(ref reader, "tag vType", ["STRING", "BOOL", "INT64", "FLOAT64", "BINARY"]);
                    ok &= type >= 0;
                    break;
                case "vStr" or "v_str":
                    s = ReadString(ref reader, "tag vStr", intern: false);
                    break;
                case "vBool" or "v_bool":
                    b = reader.TokenType == JsonTokenType.True;
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        Fail("tag vBool is not a boolean");
                        ok = false;
                        reader.Skip();
                    }

                    break;
                case "vInt64" or "v_int64":
                    ok &= TryReadInt64(ref reader, out i);
                    break;
                case "vFloat64" or "v_float64":
                    ok &= TryReadDouble(ref reader, out d);
                    break;
                case "vBinary" or "v_binary":
                    string? base64 = ReadString(ref reader, "tag vBinary", intern: false);
                    try
                    {
                        binary = base64 is null ? null : Convert.FromBase64String(base64);
                    }
                    catch (FormatException)
                    {
                        Fail("tag vBinary is not base64");
                        ok = false;
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (!ok)
        {
            return false;
        }

        text = JaegerSpanParts.ValueText((JaegerValueType)type, s, b, i, d, binary);
        return true;
    }

    private string? ReadString(ref Utf8JsonReader reader, string what, bool intern)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            if (intern && !reader.ValueIsEscaped && !reader.HasValueSequence && _intern.TryIntern(reader.ValueSpan, out string interned))
            {
                return interned;
            }

            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            Fail($"{what} is a {reader.TokenType}, expected a string");
            reader.Skip();
        }

        return null;
    }

    /// <summary>An enum by name or by number; -1 (and an error) when it is neither.</summary>
    private int ReadEnum(ref Utf8JsonReader reader, string what, string[] names)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int n) && n >= 0 && n < names.Length)
        {
            return n;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            for (int i = 0; i < names.Length; i++)
            {
                if (reader.ValueTextEquals(names[i]))
                {
                    return i;
                }
            }
        }

        Fail($"{what} is not one of {string.Join(", ", names)}");
        reader.Skip();
        return -1;
    }

    private bool TryReadInt64(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        bool ok = reader.TokenType switch
        {
            JsonTokenType.Number => reader.TryGetInt64(out value),
            JsonTokenType.String => long.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
        if (!ok)
        {
            Fail("tag vInt64 is not a 64-bit integer (number or decimal string)");
            reader.Skip();
        }

        return ok;
    }

    private bool TryReadDouble(ref Utf8JsonReader reader, out double value)
    {
        value = 0;
        bool ok = reader.TokenType switch
        {
            JsonTokenType.Number => reader.TryGetDouble(out value),
            // The proto3 JSON mapping writes NaN and the infinities as strings.
            JsonTokenType.String => double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
        if (!ok)
        {
            Fail("tag vFloat64 is not a number");
            reader.Skip();
        }

        return ok;
    }

    /// <summary>
    /// An id of <paramref name="bytes"/> bytes: base64 (standard or URL-safe, padded or not), or
    /// 2 × <paramref name="bytes"/> hex digits. Big-endian, as Jaeger's ids marshal.
    /// </summary>
    private static bool TryReadId(ref Utf8JsonReader reader, int bytes, out UInt128 id)
    {
        id = 0;
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return false;
        }

        string text = reader.GetString()!;
        if (text.Length == bytes * 2 && IsHex(text))
        {
            return bytes == 16
                ? UInt128.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out id)
                : TryHex64(text, out id);
        }

        string normalized = text.Replace('-', '+').Replace('_', '/');
        normalized = normalized.PadRight((normalized.Length + 3) / 4 * 4, '=');
        Span<byte> buffer = stackalloc byte[24];
        if (!Convert.TryFromBase64String(normalized, buffer, out int written) || written != bytes)
        {
            return false;
        }

        UInt128 value = 0;
        for (int i = 0; i < written; i++)
        {
            value = (value << 8) | buffer[i];
        }

        id = value;
        return true;
    }

    private static bool TryHex64(string text, out UInt128 id)
    {
        bool ok = ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v);
        id = v;
        return ok;
    }

    private static bool IsHex(string text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Unix nanoseconds of a timestamp, or nanoseconds of a duration; -1 (and an error) when unreadable.</summary>
    private long ReadTime(ref Utf8JsonReader reader, string what, bool isDuration)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long micros) && micros >= 0 && micros < 9_000_000_000_000_000)
        {
            return micros * 1_000;
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            string text = reader.GetString()!;
            long nanos = isDuration ? ParseDuration(text) : ParseTimestamp(text);
            if (nanos != long.MinValue)
            {
                return nanos;
            }
        }

        Fail(isDuration
            ? $"{what} must be a proto3 JSON duration such as \"0.001500s\" (or microseconds)"
            : $"{what} must be an RFC 3339 timestamp such as \"2023-11-14T22:13:20.123456789Z\" (or epoch microseconds)");
        reader.Skip();
        return -1;
    }

    /// <summary><c>-?seconds(.fraction)?s</c> with up to 9 fractional digits, as nanoseconds; long.MinValue when malformed.</summary>
    internal static long ParseDuration(string text)
    {
        if (text.Length < 2 || text[^1] != 's')
        {
            return long.MinValue;
        }

        var body = text.AsSpan(0, text.Length - 1);
        bool negative = body.Length > 0 && body[0] == '-';
        if (negative)
        {
            body = body[1..];
        }

        int dot = body.IndexOf('.');
        var wholePart = dot >= 0 ? body[..dot] : body;
        var fractionPart = dot >= 0 ? body[(dot + 1)..] : [];
        if (wholePart.IsEmpty || fractionPart.Length > 9
            || !long.TryParse(wholePart, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
            || seconds > 9_000_000_000
            || !TryFraction(fractionPart, out long fraction))
        {
            return long.MinValue;
        }

        long nanos = (seconds * 1_000_000_000) + fraction;
        return negative ? -nanos : nanos;
    }

    /// <summary>
    /// RFC 3339 <c>yyyy-MM-ddTHH:mm:ss(.f{1,9})?(Z|±HH:mm)</c> as Unix nanoseconds, keeping all 9
    /// fractional digits (DateTimeOffset would round them to 100 ns ticks); long.MinValue when malformed.
    /// </summary>
    internal static long ParseTimestamp(string text)
    {
        if (text.Length < 20
            || !DateTime.TryParseExact(text.AsSpan(0, 19), "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime whole))
        {
            return long.MinValue;
        }

        var rest = text.AsSpan(19);
        long fraction = 0;
        if (rest.Length > 0 && rest[0] == '.')
        {
            int digits = 1;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            if (digits == 1 || digits > 10 || !TryFraction(rest[1..digits], out fraction))
            {
                return long.MinValue;
            }

            rest = rest[digits..];
        }

        long offsetSeconds;
        if (rest is "Z" or "z")
        {
            offsetSeconds = 0;
        }
        else if (rest.Length == 6 && rest[0] is '+' or '-' && rest[3] == ':'
            && int.TryParse(rest[1..3], NumberStyles.None, CultureInfo.InvariantCulture, out int hours)
            && int.TryParse(rest[4..6], NumberStyles.None, CultureInfo.InvariantCulture, out int minutes))
        {
            offsetSeconds = ((hours * 60) + minutes) * 60 * (rest[0] == '-' ? -1 : 1);
        }
        else
        {
            return long.MinValue;
        }

        long seconds = (long)(whole - DateTime.UnixEpoch).TotalSeconds - offsetSeconds;
        return (seconds * 1_000_000_000) + fraction;
    }

    /// <summary>Fraction digits (at most 9) as nanoseconds: "0015" → 1,500,000.</summary>
    private static bool TryFraction(ReadOnlySpan<char> digits, out long nanos)
    {
        nanos = 0;
        if (digits.Length > 9)
        {
            return false;
        }

        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            nanos = (nanos * 10) + (c - '0');
        }

        for (int i = digits.Length; i < 9; i++)
        {
            nanos *= 10;
        }

        return true;
    }
}
