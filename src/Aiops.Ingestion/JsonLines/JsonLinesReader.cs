using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Aiops.Core;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.JsonLines;

/// <summary>What one JSON line turned out to be.</summary>
public enum JsonLineType : byte
{
    /// <summary>A metric point; read <see cref="JsonLineResult.Metric"/>.</summary>
    Metric = 0,

    /// <summary>A span; read <see cref="JsonLineResult.Span"/>.</summary>
    Span = 1,

    /// <summary>The line could not be decoded; read <see cref="JsonLineResult.Error"/>.</summary>
    Error = 2,
}

/// <summary>The outcome of one line: a metric point, a span, or a decode error (never an exception).</summary>
public readonly struct JsonLineResult
{
    internal JsonLineResult(JsonLineType type, long lineNumber, MetricPoint metric, SpanRecord span, DecodeError error)
    {
        Type = type;
        LineNumber = lineNumber;
        Metric = metric;
        Span = span;
        Error = error;
    }

    /// <summary>Which of the three the line is.</summary>
    public JsonLineType Type { get; }

    /// <summary>1-based line number in the file or payload.</summary>
    public long LineNumber { get; }

    /// <summary>The metric point when <see cref="Type"/> is <see cref="JsonLineType.Metric"/>.</summary>
    public MetricPoint Metric { get; }

    /// <summary>The span when <see cref="Type"/> is <see cref="JsonLineType.Span"/>.</summary>
    public SpanRecord Span { get; }

    /// <summary>The error when <see cref="Type"/> is <see cref="JsonLineType.Error"/>.</summary>
    public DecodeError Error { get; }
}

/// <summary>
/// Reads our JSON-lines format (TEAM.md): one object per line, <c>"type":"metric"</c> or
/// <c>"type":"span"</c>, fields in any order. Parsing uses <see cref="Utf8JsonReader"/> directly
/// (no reflection serializer) and interns service, metric and label strings. A bad line yields a
/// <see cref="DecodeError"/> naming the line, the field and what was wrong; lines around it are
/// unaffected. Blank lines are skipped. Not thread-safe (it owns an intern cache and a watermark).
/// </summary>
public sealed class JsonLinesReader
{
    private readonly DecodeOptions _options;
    private readonly StringInternCache _intern;
    private readonly LabelSetBuilder _labels = new();
    private readonly TimestampGuard _timestamps;
    private readonly List<SpanAttribute> _attributes = new(16);
    private byte[] _scratch = new byte[256];
    private byte[] _scratch2 = new byte[256];

    /// <summary>Creates a reader with the given limits (defaults when null).</summary>
    public JsonLinesReader(DecodeOptions? options = null)
    {
        _options = options ?? DecodeOptions.Default;
        _intern = new StringInternCache(_options.InternCacheCapacity);
        _timestamps = new TimestampGuard(_options);
    }

    /// <summary>Reads every line of a file. Lines are yielded lazily; the file is closed at the end of the enumeration.</summary>
    public IEnumerable<JsonLineResult> ReadFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        foreach (JsonLineResult r in Read(stream))
        {
            yield return r;
        }
    }

    /// <summary>Reads every line of a stream (UTF-8, <c>\n</c> or <c>\r\n</c> separated).</summary>
    public IEnumerable<JsonLineResult> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] buffer = new byte[1 << 16];
        int start = 0;
        int end = 0;
        long lineNumber = 0;
        while (true)
        {
            int newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                lineNumber++;
                int lineEnd = start + newline;
                var r = DecodeOne(buffer.AsSpan(start, lineEnd - start), lineNumber, out bool blank);
                start = lineEnd + 1;
                if (!blank)
                {
                    yield return r;
                }

                continue;
            }

            // Need more bytes: compact, grow if one line fills the buffer (up to MaxRecordBytes).
            if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }

            if (end == buffer.Length)
            {
                if (buffer.Length >= _options.MaxRecordBytes)
                {
                    // Oversized line: report it and skip to its end.
                    lineNumber++;
                    yield return Fail(DecodeErrorKind.Oversized, $"line is longer than {_options.MaxRecordBytes} bytes", lineNumber);
                    int skipped;
                    do
                    {
                        skipped = stream.Read(buffer, 0, buffer.Length);
                        int nl = buffer.AsSpan(0, skipped).IndexOf((byte)'\n');
                        if (nl >= 0)
                        {
                            start = nl + 1;
                            end = skipped;
                            break;
                        }
                    }
                    while (skipped > 0);

                    if (skipped == 0)
                    {
                        yield break;
                    }

                    continue;
                }

                Array.Resize(ref buffer, Math.Min(_options.MaxRecordBytes, buffer.Length * 2));
            }

            int read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0)
            {
                if (end > start)
                {
                    lineNumber++;
                    var r = DecodeOne(buffer.AsSpan(start, end - start), lineNumber, out bool blank);
                    if (!blank)
                    {
                        yield return r;
                    }
                }

                yield break;
            }

            end += read;
        }
    }

    /// <summary>
    /// Decodes one Kafka record holding one or more lines into <paramref name="batch"/>. An empty
    /// record is an <see cref="DecodeErrorKind.Empty"/> error; a record over
    /// <see cref="DecodeOptions.MaxRecordBytes"/> is <see cref="DecodeErrorKind.Oversized"/>.
    /// </summary>
    public void Decode(ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (payload.Length > _options.MaxRecordBytes)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.Oversized, $"record of {payload.Length} bytes exceeds the limit of {_options.MaxRecordBytes} bytes"));
            return;
        }

        long lineNumber = 0;
        bool any = false;
        while (!payload.IsEmpty)
        {
            int nl = payload.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = nl >= 0 ? payload[..nl] : payload;
            payload = nl >= 0 ? payload[(nl + 1)..] : default;
            lineNumber++;
            JsonLineResult r = DecodeOne(line, lineNumber, out bool blank);
            if (blank)
            {
                continue;
            }

            any = true;
            switch (r.Type)
            {
                case JsonLineType.Metric: batch.Metrics.Add(r.Metric); break;
                case JsonLineType.Span: batch.Spans.Add(r.Span); break;
                default: batch.Errors.Add(r.Error); break;
            }
        }

        if (!any)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.Empty, "record is empty (no JSON lines)"));
        }
    }

    /// <summary>Decodes a single line (without its newline). A blank line is an <see cref="DecodeErrorKind.Empty"/> error here.</summary>
    public JsonLineResult DecodeLine(ReadOnlySpan<byte> line, long lineNumber)
    {
        JsonLineResult r = DecodeOne(line, lineNumber, out bool blank);
        return blank ? Fail(DecodeErrorKind.Empty, "line is empty", lineNumber) : r;
    }

    private static JsonLineResult Fail(DecodeErrorKind kind, string reason, long lineNumber) =>
        new(JsonLineType.Error, lineNumber, default, default, new DecodeError(kind, $"line {lineNumber}: {reason}", lineNumber));

    private JsonLineResult DecodeOne(ReadOnlySpan<byte> line, long lineNumber, out bool blank)
    {
        line = line.Trim(" \t\r"u8);
        blank = line.IsEmpty;
        if (blank)
        {
            return default;
        }

        if (line.Length > _options.MaxRecordBytes)
        {
            return Fail(DecodeErrorKind.Oversized, $"line of {line.Length} bytes exceeds the limit of {_options.MaxRecordBytes} bytes", lineNumber);
        }

        if (!Utf8.IsValid(line))
        {
            return Fail(DecodeErrorKind.InvalidUtf8, "line is not valid UTF-8", lineNumber);
        }

        try
        {
            return Parse(line, lineNumber);
        }
        catch (JsonException e)
        {
            return Fail(DecodeErrorKind.MalformedJson, $"malformed JSON at byte {e.BytePositionInLine}: {e.Message}", lineNumber);
        }
        catch (InvalidOperationException e)
        {
            return Fail(DecodeErrorKind.InvalidValue, e.Message, lineNumber);
        }
    }

    private static ReadOnlySpan<byte> Unescaped(scoped ref Utf8JsonReader reader, ref byte[] scratch)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return reader.ValueSpan;
        }

        int max = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (scratch.Length < max)
        {
            scratch = new byte[Math.Max(max, scratch.Length * 2)];
        }

        int n = reader.CopyString(scratch);
        return scratch.AsSpan(0, n);
    }

    private JsonLineResult Parse(ReadOnlySpan<byte> line, long lineNumber)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return Fail(DecodeErrorKind.MalformedJson, "expected a JSON object", lineNumber);
        }

        int type = -1; // 0 metric, 1 span
        string? service = null, metric = null, instance = null, version = null, name = null;
        string labels = string.Empty;
        MetricKind kind = MetricKind.Generic;
        SpanKind spanKind = SpanKind.Unspecified;
        SpanStatus status = SpanStatus.Unset;
        long ts = 0;
        bool hasTs = false, hasValue = false, hasStart = false, hasEnd = false, hasTrace = false, hasSpan = false;
        double value = 0, total = 0;
        long start = 0, end = 0;
        UInt128 traceId = 0;
        ulong spanId = 0, parentId = 0;
        string? peer = null, server = null, db = null, messaging = null;
        SpanAttribute[]? attributes = null;

        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            ReadOnlySpan<byte> prop = reader.ValueSpan;
            if (!reader.Read())
            {
                return Fail(DecodeErrorKind.MalformedJson, "unexpected end of line", lineNumber);
            }

            if (prop.SequenceEqual("type"u8))
            {
                if (reader.TokenType != JsonTokenType.String)
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'type' must be a string", lineNumber);
                }

                ReadOnlySpan<byte> t = reader.ValueSpan;
                if (t.SequenceEqual("metric"u8))
                {
                    type = 0;
                }
                else if (t.SequenceEqual("span"u8))
                {
                    type = 1;
                }
                else
                {
                    return Fail(DecodeErrorKind.UnknownRecordType, $"field 'type' is '{Encoding.UTF8.GetString(t)}', expected 'metric' or 'span'", lineNumber);
                }
            }
            else if (prop.SequenceEqual("ts"u8))
            {
                string? err = ReadTimestampMs(ref reader, out ts);
                if (err is not null)
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'ts': " + err, lineNumber);
                }

                hasTs = true;
            }
            else if (prop.SequenceEqual("service"u8))
            {
                if (!ReadString(ref reader, out service, out string? err))
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'service': " + err, lineNumber);
                }
            }
            else if (prop.SequenceEqual("metric"u8))
            {
                if (!ReadString(ref reader, out metric, out string? err))
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'metric': " + err, lineNumber);
                }
            }
            else if (prop.SequenceEqual("labels"u8))
            {
                var (k, err) = ReadLabels(ref reader, out labels);
                if (err is not null)
                {
                    return Fail(k, "field 'labels': " + err, lineNumber);
                }
            }
            else if (prop.SequenceEqual("kind"u8))
            {
                if (reader.TokenType != JsonTokenType.String)
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'kind' must be a string", lineNumber);
                }

                // The meaning depends on the record type, which may come later: parse both.
                ReadOnlySpan<byte> k = reader.ValueSpan;
                bool isMetricKind = JsonLineNames.TryParseKind(k, out kind);
                bool isSpanKind = JsonLineNames.TryParseSpanKind(k, out spanKind);
                if (!isMetricKind && !isSpanKind)
                {
                    return Fail(DecodeErrorKind.UnknownEnumValue, $"field 'kind' is '{Encoding.UTF8.GetString(k)}', expected generic|latency|error_rate|throughput|saturation (metric) or internal|server|client|producer|consumer (span)", lineNumber);
                }

                if (!isMetricKind)
                {
                    kind = (MetricKind)255;
                }

                if (!isSpanKind)
                {
                    spanKind = (SpanKind)255;
                }
            }
            else if (prop.SequenceEqual("value"u8))
            {
                var (k, err) = ReadDouble(ref reader, out value);
                if (err is not null)
                {
                    return Fail(k, "field 'value': " + err, lineNumber);
                }

                hasValue = true;
            }
            else if (prop.SequenceEqual("total"u8))
            {
                var (k, err) = ReadDouble(ref reader, out total);
                if (err is not null)
                {
                    return Fail(k, "field 'total': " + err, lineNumber);
                }
            }
            else if (prop.SequenceEqual("traceId"u8))
            {
                if (reader.TokenType != JsonTokenType.String || !HexIds.TryParseTraceId(reader.ValueSpan, out traceId))
                {
                    return Fail(DecodeErrorKind.InvalidId, "field 'traceId' must be 32 hex digits", lineNumber);
                }

                hasTrace = true;
            }
            else if (prop.SequenceEqual("spanId"u8))
            {
                if (reader.TokenType != JsonTokenType.String || !HexIds.TryParseSpanId(reader.ValueSpan, out spanId))
                {
                    return Fail(DecodeErrorKind.InvalidId, "field 'spanId' must be 16 hex digits", lineNumber);
                }

                hasSpan = true;
            }
            else if (prop.SequenceEqual("parentSpanId"u8))
            {
                if (reader.TokenType == JsonTokenType.Null || (reader.TokenType == JsonTokenType.String && reader.ValueSpan.IsEmpty))
                {
                    parentId = 0;
                }
                else if (reader.TokenType != JsonTokenType.String || !HexIds.TryParseSpanId(reader.ValueSpan, out parentId))
                {
                    return Fail(DecodeErrorKind.InvalidId, "field 'parentSpanId' must be 16 hex digits or empty", lineNumber);
                }
            }
            else if (prop.SequenceEqual("instance"u8))
            {
                if (!ReadString(ref reader, out instance, out string? err))
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'instance': " + err, lineNumber);
                }
            }
            else if (prop.SequenceEqual("version"u8))
            {
                if (!ReadString(ref reader, out version, out string? err))
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'version': " + err, lineNumber);
                }
            }
            else if (prop.SequenceEqual("name"u8))
            {
                if (!ReadString(ref reader, out name, out string? err))
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'name': " + err, lineNumber);
                }
            }
            else if (prop.SequenceEqual("start"u8))
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out start))
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'start' must be an integer (Unix nanoseconds)", lineNumber);
                }

                hasStart = true;
            }
            else if (prop.SequenceEqual("end"u8))
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out end))
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'end' must be an integer (Unix nanoseconds)", lineNumber);
                }

                hasEnd = true;
            }
            else if (prop.SequenceEqual("status"u8))
            {
                if (reader.TokenType != JsonTokenType.String || !JsonLineNames.TryParseStatus(reader.ValueSpan, out status))
                {
                    return Fail(DecodeErrorKind.UnknownEnumValue, "field 'status' must be unset|ok|error", lineNumber);
                }
            }
            else if (prop.SequenceEqual("attributes"u8))
            {
                string? err = ReadAttributes(ref reader, line, out attributes, out peer, out server, out db, out messaging);
                if (err is not null)
                {
                    return Fail(DecodeErrorKind.InvalidValue, "field 'attributes': " + err, lineNumber);
                }
            }
            else
            {
                reader.Skip(); // unknown fields are ignored, for forward compatibility
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return Fail(DecodeErrorKind.MalformedJson, "text after the JSON object", lineNumber);
        }

        if (type < 0)
        {
            return Fail(DecodeErrorKind.MissingField, "field 'type' is missing (expected 'metric' or 'span')", lineNumber);
        }

        if (string.IsNullOrEmpty(service))
        {
            return Fail(DecodeErrorKind.MissingField, "field 'service' is missing or empty", lineNumber);
        }

        if (type == 0)
        {
            if (string.IsNullOrEmpty(metric))
            {
                return Fail(DecodeErrorKind.MissingField, "field 'metric' is missing or empty", lineNumber);
            }

            if (!hasTs)
            {
                return Fail(DecodeErrorKind.MissingField, "field 'ts' is missing", lineNumber);
            }

            if (!hasValue)
            {
                return Fail(DecodeErrorKind.MissingField, "field 'value' is missing", lineNumber);
            }

            if (kind == (MetricKind)255)
            {
                return Fail(DecodeErrorKind.UnknownEnumValue, "field 'kind' is not a metric kind (generic|latency|error_rate|throughput|saturation)", lineNumber);
            }

            string? tsErr = _timestamps.Check(ts);
            if (tsErr is not null)
            {
                return Fail(DecodeErrorKind.TimestampOutOfRange, "field 'ts': " + tsErr, lineNumber);
            }

            var point = new MetricPoint(new SeriesKey(service, metric, labels), kind, ts, value, total);
            return new JsonLineResult(JsonLineType.Metric, lineNumber, point, default, default);
        }

        if (!hasTrace)
        {
            return Fail(DecodeErrorKind.MissingField, "field 'traceId' is missing", lineNumber);
        }

        if (!hasSpan)
        {
            return Fail(DecodeErrorKind.MissingField, "field 'spanId' is missing", lineNumber);
        }

        if (!hasStart || !hasEnd)
        {
            return Fail(DecodeErrorKind.MissingField, hasStart ? "field 'end' is missing" : "field 'start' is missing", lineNumber);
        }

        if (spanKind == (SpanKind)255)
        {
            return Fail(DecodeErrorKind.UnknownEnumValue, "field 'kind' is not a span kind (internal|server|client|producer|consumer)", lineNumber);
        }

        if (end < start)
        {
            return Fail(DecodeErrorKind.InvalidValue, $"span ends ({end}) before it starts ({start})", lineNumber);
        }

        string? spanTsErr = _timestamps.Check(start / 1_000_000);
        if (spanTsErr is not null)
        {
            return Fail(DecodeErrorKind.TimestampOutOfRange, "field 'start': " + spanTsErr, lineNumber);
        }

        var span = new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parentId,
            Service = service,
            ServiceInstance = instance,
            ServiceVersion = version,
            Name = name ?? string.Empty,
            Kind = spanKind,
            StartUnixNanos = start,
            EndUnixNanos = end,
            Status = status,
            PeerService = peer,
            ServerAddress = server,
            DbSystem = db,
            MessagingSystem = messaging,
            Attributes = attributes ?? [],
        };
        return new JsonLineResult(JsonLineType.Span, lineNumber, default, span, default);
    }

    private bool ReadString(ref Utf8JsonReader reader, out string? value, out string? error)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            value = null;
            error = null;
            return true;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            value = null;
            error = $"expected a string, got {reader.TokenType}";
            return false;
        }

        if (!_intern.TryIntern(Unescaped(ref reader, ref _scratch), out string s))
        {
            value = null;
            error = "invalid UTF-8";
            return false;
        }

        value = s;
        error = null;
        return true;
    }

    private static (DecodeErrorKind Kind, string? Error) ReadDouble(ref Utf8JsonReader reader, out double value)
    {
        value = 0;
        if (reader.TokenType == JsonTokenType.String)
        {
            // Non-finite values cannot be JSON numbers; producers that write them as strings are told why they are refused.
            ReadOnlySpan<byte> s = reader.ValueSpan;
            if (s.SequenceEqual("NaN"u8) || s.SequenceEqual("Infinity"u8) || s.SequenceEqual("-Infinity"u8))
            {
                return (DecodeErrorKind.NonFiniteValue, $"value is {Encoding.UTF8.GetString(s)}; only finite numbers are accepted");
            }

            return (DecodeErrorKind.InvalidValue, "expected a number, got a string");
        }

        if (reader.TokenType != JsonTokenType.Number)
        {
            return (DecodeErrorKind.InvalidValue, $"expected a number, got {reader.TokenType}");
        }

        if (!reader.TryGetDouble(out value) || !double.IsFinite(value))
        {
            return (DecodeErrorKind.NonFiniteValue, "number is out of the range of a double");
        }

        return (DecodeErrorKind.InvalidValue, null);
    }

    private static string? ReadTimestampMs(ref Utf8JsonReader reader, out long ms)
    {
        ms = 0;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (reader.TryGetInt64(out ms))
            {
                return null;
            }

            if (reader.TryGetDouble(out double d) && double.IsFinite(d) && Math.Abs(d) < 9e15)
            {
                ms = (long)Math.Floor(d);
                return null;
            }

            return "number is not a Unix millisecond timestamp";
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            string text = reader.GetString()!;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset dto))
            {
                ms = dto.ToUnixTimeMilliseconds();
                return null;
            }

            return $"'{text}' is not an RFC 3339 timestamp";
        }

        return $"expected Unix milliseconds or an RFC 3339 string, got {reader.TokenType}";
    }

    private (DecodeErrorKind Kind, string? Error) ReadLabels(ref Utf8JsonReader reader, out string labels)
    {
        labels = string.Empty;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return (DecodeErrorKind.InvalidValue, null);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return (DecodeErrorKind.InvalidValue, $"expected an object of strings, got {reader.TokenType}");
        }

        _labels.Reset();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            ReadOnlySpan<byte> key = Unescaped(ref reader, ref _scratch2);
            if (key.IsEmpty)
            {
                return (DecodeErrorKind.InvalidValue, "a label key is empty");
            }

            reader.Read();
            ReadOnlySpan<byte> value;
            if (reader.TokenType == JsonTokenType.String)
            {
                value = Unescaped(ref reader, ref _scratch);
            }
            else if (reader.TokenType is JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False)
            {
                value = reader.ValueSpan;
            }
            else
            {
                return (DecodeErrorKind.InvalidValue, $"label '{Encoding.UTF8.GetString(key)}' must be a string, number or boolean");
            }

            if (_labels.Count >= _options.MaxLabelsPerPoint)
            {
                return (DecodeErrorKind.LabelLimitExceeded, $"more than {_options.MaxLabelsPerPoint} labels");
            }

            if (value.Length > _options.MaxLabelValueLength)
            {
                return (DecodeErrorKind.LabelLimitExceeded, $"label '{Encoding.UTF8.GetString(key)}' value has {value.Length} bytes, limit {_options.MaxLabelValueLength}");
            }

            _labels.Add(key, value);
        }

        if (!_intern.TryIntern(_labels.Build(), out labels))
        {
            return (DecodeErrorKind.InvalidUtf8, "invalid UTF-8");
        }

        return (DecodeErrorKind.InvalidValue, null);
    }

    private string? ReadAttributes(ref Utf8JsonReader reader, ReadOnlySpan<byte> line, out SpanAttribute[]? attributes, out string? peer, out string? server, out string? db, out string? messaging)
    {
        attributes = null;
        peer = server = db = messaging = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"expected an object, got {reader.TokenType}";
        }

        _attributes.Clear();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (!_intern.TryIntern(Unescaped(ref reader, ref _scratch2), out string key))
            {
                return "invalid UTF-8 in a key";
            }

            reader.Read();
            string text;
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    text = reader.GetString()!;
                    break;
                case JsonTokenType.Number:
                case JsonTokenType.True:
                case JsonTokenType.False:
                    text = Encoding.UTF8.GetString(reader.ValueSpan);
                    break;
                case JsonTokenType.Null:
                    continue;
                default:
                    // Arrays and objects are kept as their JSON text.
                    int from = (int)reader.TokenStartIndex;
                    reader.Skip();
                    text = Encoding.UTF8.GetString(line[from..(int)reader.BytesConsumed]);
                    break;
            }

            switch (key)
            {
                case SpanAttributeNames.PeerService: peer = text; break;
                case SpanAttributeNames.ServerAddress: server = text; break;
                case SpanAttributeNames.NetPeerName: server ??= text; break;
                case SpanAttributeNames.DbSystem: db = text; break;
                case SpanAttributeNames.MessagingSystem: messaging = text; break;
                default: _attributes.Add(new SpanAttribute(key, text)); break;
            }
        }

        attributes = _attributes.Count == 0 ? [] : _attributes.ToArray();
        return null;
    }
}
