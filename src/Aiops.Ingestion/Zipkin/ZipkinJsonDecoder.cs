using System.Globalization;
using System.Text.Json;
using Aiops.Core;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.Zipkin;

/// <summary>
/// Decodes Zipkin's JSON v2 span list (the body of <c>POST /api/v2/spans</c>, and what Zipkin's
/// Kafka collector reads: a JSON array of spans; a single span object is accepted too) into
/// <see cref="SpanRecord"/>s. Field mapping (Zipkin API v2 model):
/// <c>traceId</c> (16 or 32 hex digits; 16 means a 64-bit id, the high half is zero), <c>id</c>,
/// <c>parentId</c> (absent on a root), <c>kind</c> (<c>CLIENT</c>/<c>SERVER</c>/<c>PRODUCER</c>/<c>CONSUMER</c>;
/// absent means a local span → <see cref="SpanKind.Internal"/>), <c>name</c>, <c>timestamp</c> and
/// <c>duration</c> in epoch microseconds (× 1,000 to nanoseconds), <c>localEndpoint.serviceName</c>
/// → <see cref="SpanRecord.Service"/>, <c>localEndpoint.ipv4|ipv6</c>(<c>:port</c>) →
/// <see cref="SpanRecord.ServiceInstance"/> (the replica), <c>remoteEndpoint.serviceName</c> →
/// <see cref="SpanRecord.PeerService"/>, <c>tags</c> → attributes with the peer attributes lifted
/// and the status derived as <see cref="ForeignSpanFields"/> describes. Annotations are skipped.
/// A span with a bad field adds a <see cref="DecodeError"/> and its siblings are still returned;
/// JSON that is not well formed stops the payload with <see cref="DecodeErrorKind.MalformedJson"/>
/// (spans before the error are kept). Never throws on bad input. Not thread-safe.
/// </summary>
public sealed class ZipkinJsonDecoder
{
    private const string UnknownService = "unknown_service";

    private readonly DecodeOptions _options;
    private readonly StringInternCache _intern;
    private readonly TimestampGuard _timestamps;
    private readonly ForeignSpanFields _fields = new();

    /// <summary>Creates a decoder with the given limits (defaults when null).</summary>
    public ZipkinJsonDecoder(DecodeOptions? options = null)
    {
        _options = options ?? DecodeOptions.Default;
        _intern = new StringInternCache(_options.InternCacheCapacity);
        _timestamps = new TimestampGuard(_options);
    }

    /// <summary>Decodes one payload (a JSON array of spans, or one span object) into <paramref name="batch"/>.</summary>
    public void Decode(ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        if (!RecordAdmission.Admit(payload, batch, _options, "Zipkin payload is empty (expected a JSON array of spans)", text: true))
        {
            return;
        }

        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                ReadSpan(ref reader, batch, 0);
            }
            else if (reader.TokenType == JsonTokenType.StartArray)
            {
                int index = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"Zipkin span [{index}] is a {reader.TokenType}, expected an object", reader.TokenStartIndex));
                        reader.Skip();
                    }
                    else
                    {
                        ReadSpan(ref reader, batch, index);
                    }

                    index++;
                }
            }
            else
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.MalformedJson, $"Zipkin payload starts with {reader.TokenType}, expected an array of spans", reader.TokenStartIndex));
                return;
            }

            if (reader.Read())
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.MalformedJson, "data after the end of the Zipkin span list", reader.TokenStartIndex));
            }
        }
        catch (JsonException ex)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MalformedJson, "Zipkin payload is not well-formed JSON: " + ex.Message, reader.BytesConsumed));
        }
        catch (InvalidOperationException ex)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, "Zipkin payload has invalid text: " + ex.Message, reader.BytesConsumed));
        }
    }

    private void ReadSpan(ref Utf8JsonReader reader, DecodeBatch batch, int index)
    {
        long at = reader.TokenStartIndex;
        _fields.Reset();
        string? traceIdText = null, idText = null, parentText = null, kindText = null;
        string name = "";
        string service = UnknownService;
        string? instance = null;
        long timestampUs = -1, durationUs = 0;
        string? error = null;

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case "traceId": traceIdText = ReadString(ref reader, property, ref error); break;
                case "id": idText = ReadString(ref reader, property, ref error); break;
                case "parentId": parentText = ReadString(ref reader, property, ref error); break;
                case "kind": kindText = ReadString(ref reader, property, ref error); break;
                case "name": name = Intern(ref reader, property, ref error) ?? ""; break;
                case "timestamp": timestampUs = ReadMicros(ref reader, property, ref error); break;
                case "duration": durationUs = ReadMicros(ref reader, property, ref error); break;
                case "localEndpoint":
                    ReadEndpoint(ref reader, property, ref error, out string? localService, out instance);
                    service = localService ?? service;
                    break;
                case "remoteEndpoint":
                    ReadEndpoint(ref reader, property, ref error, out string? remoteService, out _);
                    _fields.PeerService = remoteService;
                    break;
                case "tags": ReadTags(ref reader, ref error); break;
                default: reader.Skip(); break;
            }
        }

        string where = $"Zipkin span [{index}] of service '{service}'";
        if (error is not null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"{where}: {error}", at));
            return;
        }

        if (traceIdText is null || idText is null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"{where}: traceId and id are required", at));
            return;
        }

        if (!TryParseTraceId(traceIdText, out UInt128 traceId) || !TryParseSpanId(idText, out ulong spanId)
            || traceId == 0 || spanId == 0)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidId, $"{where}: traceId '{traceIdText}' must be 16 or 32 hex digits and id '{idText}' 16 hex digits, non-zero", at));
            return;
        }

        ulong parentId = 0;
        if (!string.IsNullOrEmpty(parentText) && !TryParseSpanId(parentText, out parentId))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidId, $"{where}: parentId '{parentText}' must be 16 hex digits", at));
            return;
        }

        if (!ForeignSpanFields.TryParseKind(kindText, SpanKind.Internal, out SpanKind kind))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"{where}: kind '{kindText}' is not CLIENT, SERVER, PRODUCER or CONSUMER", at));
            return;
        }

        if (timestampUs <= 0)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"{where}: timestamp (epoch microseconds) is missing", at));
            return;
        }

        // 9.2e12 µs (year 2262) is where nanoseconds overflow a long; the guard's window ends in 2100.
        string? tsError = _timestamps.Check(timestampUs / 1_000);
        if (tsError is not null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.TimestampOutOfRange, $"{where}: {tsError}", at));
            return;
        }

        long start = timestampUs * 1_000;
        batch.Spans.Add(new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parentId,
            Service = service,
            ServiceInstance = instance,
            Name = name,
            Kind = kind,
            StartUnixNanos = start,
            EndUnixNanos = start + (durationUs * 1_000),
            Status = _fields.Status(kind),
            PeerService = _fields.PeerService,
            ServerAddress = _fields.ServerAddress ?? _fields.NetPeerName,
            DbSystem = _fields.DbSystem,
            MessagingSystem = _fields.MessagingSystem,
            Attributes = _fields.AttributesSnapshot(),
        });
    }

    private static string? ReadString(ref Utf8JsonReader reader, string property, ref string? error)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            error ??= $"{property} is a {reader.TokenType}, expected a string";
        }

        reader.Skip();
        return null;
    }

    private string? Intern(ref Utf8JsonReader reader, string property, ref string? error)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return _intern.TryIntern(reader.ValueSpan, out string value) ? value : reader.GetString();
        }

        return ReadString(ref reader, property, ref error);
    }

    /// <summary>A non-negative integer number of microseconds (Zipkin writes them as JSON numbers).</summary>
    private static long ReadMicros(ref Utf8JsonReader reader, string property, ref string? error)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long value) && value >= 0 && value < 9_000_000_000_000_000)
        {
            return value;
        }

        error ??= $"{property} must be a non-negative integer of microseconds";
        reader.Skip();
        return -1;
    }

    private void ReadEndpoint(ref Utf8JsonReader reader, string property, ref string? error, out string? serviceName, out string? address)
    {
        serviceName = null;
        address = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error ??= $"{property} is a {reader.TokenType}, expected an object";
            reader.Skip();
            return;
        }

        string? ip = null;
        int port = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "serviceName": serviceName = Intern(ref reader, property + ".serviceName", ref error); break;
                case "ipv4": ip ??= ReadString(ref reader, property + ".ipv4", ref error); break;
                case "ipv6": ip ??= ReadString(ref reader, property + ".ipv6", ref error); break;
                case "port":
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int p))
                    {
                        port = p;
                    }

                    break;
                default: reader.Skip(); break;
            }
        }

        if (string.IsNullOrEmpty(serviceName))
        {
            serviceName = null;
        }

        if (ip is not null)
        {
            address = port > 0 ? string.Create(CultureInfo.InvariantCulture, $"{ip}:{port}") : ip;
        }
    }

    private void ReadTags(ref Utf8JsonReader reader, ref string? error)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error ??= $"tags is a {reader.TokenType}, expected an object of strings";
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = !reader.ValueIsEscaped && !reader.HasValueSequence && _intern.TryIntern(reader.ValueSpan, out string interned)
                ? interned
                : reader.GetString()!;
            reader.Read();
            string value;
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    value = reader.GetString()!;
                    break;
                case JsonTokenType.Number:
                    // Zipkin's model says strings; some tracers write numbers and booleans anyway.
                    value = System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
                    break;
                case JsonTokenType.True:
                    value = "true";
                    break;
                case JsonTokenType.False:
                    value = "false";
                    break;
                default:
                    error ??= $"tag '{key}' is a {reader.TokenType}, expected a string";
                    reader.Skip();
                    continue;
            }

            _fields.AddTag(key, value, errorMeansFailed: true);
        }
    }

    /// <summary>32 hex digits, or 16 for a 64-bit trace id (high half zero).</summary>
    internal static bool TryParseTraceId(string text, out UInt128 id)
    {
        id = 0;
        if (text.Length == 16)
        {
            bool ok = TryParseSpanId(text, out ulong low);
            id = low;
            return ok;
        }

        if (text.Length != 32
            || !TryParseSpanId(text.AsSpan(0, 16), out ulong hi)
            || !TryParseSpanId(text.AsSpan(16), out ulong lo))
        {
            return false;
        }

        id = new UInt128(hi, lo);
        return true;
    }

    /// <summary>Exactly 16 hex digits (either case).</summary>
    internal static bool TryParseSpanId(ReadOnlySpan<char> text, out ulong id) =>
        ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out id) && text.Length == 16;
}
