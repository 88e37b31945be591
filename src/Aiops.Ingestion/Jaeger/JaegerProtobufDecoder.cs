using System.Text;
using Aiops.Ingestion.Otlp;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.Jaeger;

/// <summary>
/// Decodes one Jaeger <c>jaeger.api_v2.Span</c> protobuf message — the record format of the
/// Collector's Kafka exporter with encoding <c>jaeger_proto</c> and of Jaeger's own Kafka
/// pipeline (one span per Kafka message, its <c>process</c> embedded) — into a
/// <see cref="Aiops.Core.SpanRecord"/>. Field numbers (jaeger-idl <c>proto/api_v2/model.proto</c>):
/// Span 1 trace_id (bytes, 16, big-endian high then low), 2 span_id (bytes, 8), 3 operation_name,
/// 4 references (SpanRef: 1 trace_id, 2 span_id, 3 ref_type CHILD_OF=0 / FOLLOWS_FROM=1),
/// 5 flags, 6 start_time (google.protobuf.Timestamp: 1 seconds, 2 nanos), 7 duration
/// (google.protobuf.Duration: 1 seconds, 2 nanos), 8 tags (KeyValue: 1 key, 2 v_type, 3 v_str,
/// 4 v_bool, 5 v_int64, 6 v_float64, 7 v_binary), 9 logs (skipped), 10 process (Process:
/// 1 service_name, 2 tags), 11 process_id, 12 warnings (skipped). Mapping rules are those of
/// <see cref="JaegerSpanParts"/>. Bad input adds a <see cref="DecodeError"/>; never throws.
/// Not thread-safe.
/// </summary>
public sealed class JaegerProtobufDecoder
{
    private const int SpanTraceId = 1;
    private const int SpanSpanId = 2;
    private const int SpanOperationName = 3;
    private const int SpanReferences = 4;
    private const int SpanStartTime = 6;
    private const int SpanDuration = 7;
    private const int SpanTags = 8;
    private const int SpanProcess = 10;
    private const int RefTraceId = 1;
    private const int RefSpanId = 2;
    private const int RefType = 3;
    private const int ProcessServiceName = 1;
    private const int ProcessTags = 2;
    private const int KvKey = 1;
    private const int KvType = 2;
    private const int KvStr = 3;
    private const int KvBool = 4;
    private const int KvInt64 = 5;
    private const int KvFloat64 = 6;
    private const int KvBinary = 7;
    private const int TimeSeconds = 1;
    private const int TimeNanos = 2;

    private readonly DecodeOptions _options;
    private readonly StringInternCache _intern;
    private readonly TimestampGuard _timestamps;
    private readonly JaegerSpanParts _parts = new();
    private readonly List<(UInt128 Trace, ulong Span, int Type)> _references = new(4);

    /// <summary>Creates a decoder with the given limits (defaults when null).</summary>
    public JaegerProtobufDecoder(DecodeOptions? options = null)
    {
        _options = options ?? DecodeOptions.Default;
        _intern = new StringInternCache(_options.InternCacheCapacity);
        _timestamps = new TimestampGuard(_options);
    }

    /// <summary>Decodes one <c>Span</c> message into <paramref name="batch"/>.</summary>
    public void Decode(ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        if (!RecordAdmission.Admit(payload, batch, _options, "Jaeger span record is empty", text: false))
        {
            return;
        }

        _parts.Reset();
        _references.Clear();
        var r = new ProtoReader(payload);
        while (!r.IsAtEnd)
        {
            int at = r.Position;
            if (!r.TryReadTag(out int field, out int wt))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"Jaeger Span: malformed field tag at byte {at}", at));
                return;
            }

            bool ok = field switch
            {
                SpanTraceId or SpanSpanId or SpanOperationName or SpanReferences or SpanStartTime or SpanDuration or SpanTags or SpanProcess
                    => ReadSpanField(ref r, field, wt, batch, at),
                _ => SkipField(ref r, wt, field, batch, at),
            };
            if (!ok)
            {
                return;
            }
        }

        foreach (var (trace, span, type) in _references)
        {
            _parts.AddReference(trace, span, type, _parts.TraceId);
        }

        _parts.Emit(batch, _timestamps, "protobuf", 0);
    }

    private static bool SkipField(ref ProtoReader r, int wt, int field, DecodeBatch batch, int at)
    {
        if (r.TrySkip(wt))
        {
            return true;
        }

        batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"Jaeger Span: field {field} (wire type {WireType.Name(wt)}) at byte {at} runs past the end of the record", at));
        return false;
    }

    private bool ReadSpanField(ref ProtoReader r, int field, int wt, DecodeBatch batch, int at)
    {
        if (wt != WireType.LengthDelimited)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"Jaeger Span field {field} has wire type {WireType.Name(wt)}, expected LEN", at));
            return false;
        }

        if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> value))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"Jaeger Span field {field} at byte {at}: length runs past the end of the {r.Position}-byte record", at));
            return false;
        }

        string? problem = null;
        switch (field)
        {
            case SpanTraceId:
                _parts.TraceIdValid = HexIds.TryReadTraceId(value, out UInt128 traceId) && value.Length == 16;
                _parts.TraceId = traceId;
                break;
            case SpanSpanId:
                _parts.SpanIdValid = HexIds.TryReadSpanId(value, out ulong spanId) && value.Length == 8;
                _parts.SpanId = spanId;
                break;
            case SpanOperationName:
                if (!_intern.TryIntern(value, out string name))
                {
                    problem = "operation_name is not valid UTF-8";
                }

                _parts.Name = name;
                break;
            case SpanReferences:
                problem = ReadReference(value);
                break;
            case SpanStartTime:
                problem = ReadTime(value, "start_time", out long start);
                _parts.StartNanos = start;
                break;
            case SpanDuration:
                problem = ReadTime(value, "duration", out long duration);
                _parts.DurationNanos = duration;
                break;
            case SpanTags:
                problem = ReadKeyValue(value, out string key, out string text);
                if (problem is null)
                {
                    _parts.Fields.AddTag(key, text, errorMeansFailed: false);
                }

                break;
            case SpanProcess:
                problem = ReadProcess(value);
                break;
            default:
                break;
        }

        if (problem is not null)
        {
            _parts.Error ??= problem;
        }

        return true;
    }

    private string? ReadReference(ReadOnlySpan<byte> message)
    {
        var r = new ProtoReader(message);
        UInt128 trace = 0;
        ulong span = 0;
        ulong type = 0;
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return "references: malformed SpanRef";
            }

            if ((field is RefTraceId or RefSpanId) && wt == WireType.LengthDelimited)
            {
                if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> id))
                {
                    return "references: truncated SpanRef";
                }

                bool ok = field == RefTraceId ? HexIds.TryReadTraceId(id, out trace) : HexIds.TryReadSpanId(id, out span);
                if (!ok)
                {
                    return "references: SpanRef id has the wrong length";
                }
            }
            else if (field == RefType && wt == WireType.Varint)
            {
                if (!r.TryReadVarint(out type))
                {
                    return "references: truncated ref_type";
                }

                if (type > 1)
                {
                    return $"references: ref_type {type} is neither CHILD_OF (0) nor FOLLOWS_FROM (1)";
                }
            }
            else if (!r.TrySkip(wt))
            {
                return "references: truncated SpanRef";
            }
        }

        _references.Add((trace, span, (int)type));
        return null;
    }

    /// <summary>Reads a <c>Timestamp</c> or <c>Duration</c> (same fields: seconds, nanos) as nanoseconds.</summary>
    private static string? ReadTime(ReadOnlySpan<byte> message, string name, out long nanos)
    {
        nanos = 0;
        long seconds = 0;
        long fraction = 0;
        var r = new ProtoReader(message);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return $"{name} is malformed";
            }

            if ((field is TimeSeconds or TimeNanos) && wt == WireType.Varint)
            {
                if (!r.TryReadVarint(out ulong v))
                {
                    return $"{name} is truncated";
                }

                if (field == TimeSeconds)
                {
                    seconds = (long)v;
                }
                else
                {
                    fraction = (int)v;
                }
            }
            else if (!r.TrySkip(wt))
            {
                return $"{name} is truncated";
            }
        }

        // Seconds of a 64-bit nanosecond count stay below 9.2e9 (year 2262).
        if (seconds is < -9_000_000_000 or > 9_000_000_000 || fraction is <= -1_000_000_000 or >= 1_000_000_000)
        {
            return $"{name} {seconds} s + {fraction} ns is out of range";
        }

        nanos = (seconds * 1_000_000_000) + fraction;
        return null;
    }

    private string? ReadKeyValue(ReadOnlySpan<byte> message, out string key, out string text)
    {
        key = "";
        text = "";
        var type = JaegerValueType.String;
        string? s = null;
        bool b = false;
        long i = 0;
        double d = 0;
        byte[]? binary = null;
        var r = new ProtoReader(message);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return "tag (KeyValue) is malformed";
            }

            switch (field)
            {
                case KvKey or KvStr or KvBinary when wt == WireType.LengthDelimited:
                    if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> bytes))
                    {
                        return "tag (KeyValue) is truncated";
                    }

                    if (field == KvBinary)
                    {
                        binary = bytes.ToArray();
                    }
                    else if (!TryText(bytes, field == KvKey, out string value))
                    {
                        return "tag (KeyValue) text is not valid UTF-8";
                    }
                    else if (field == KvKey)
                    {
                        key = value;
                    }
                    else
                    {
                        s = value;
                    }

                    break;
                case KvType or KvBool or KvInt64 when wt == WireType.Varint:
                    if (!r.TryReadVarint(out ulong v))
                    {
                        return "tag (KeyValue) is truncated";
                    }

                    if (field == KvType)
                    {
                        if (v > (ulong)JaegerValueType.Binary)
                        {
                            return $"tag v_type {v} is not a ValueType (0..4)";
                        }

                        type = (JaegerValueType)v;
                    }
                    else if (field == KvBool)
                    {
                        b = v != 0;
                    }
                    else
                    {
                        i = (long)v;
                    }

                    break;
                case KvFloat64 when wt == WireType.Fixed64:
                    if (!r.TryReadDouble(out d))
                    {
                        return "tag (KeyValue) is truncated";
                    }

                    break;
                default:
                    if (!r.TrySkip(wt))
                    {
                        return "tag (KeyValue) is truncated";
                    }

                    break;
            }
        }

        text = JaegerSpanParts.ValueText(type, s, b, i, d, binary);
        return null;
    }

    private string? ReadProcess(ReadOnlySpan<byte> message)
    {
        var r = new ProtoReader(message);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return "process is malformed";
            }

            if ((field is ProcessServiceName or ProcessTags) && wt == WireType.LengthDelimited)
            {
                if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> value))
                {
                    return "process is truncated";
                }

                if (field == ProcessServiceName)
                {
                    if (!_intern.TryIntern(value, out string service))
                    {
                        return "process.service_name is not valid UTF-8";
                    }

                    _parts.Service = service;
                }
                else
                {
                    string? problem = ReadKeyValue(value, out string key, out string text);
                    if (problem is not null)
                    {
                        return "process " + problem;
                    }

                    _parts.AddProcessTag(key, text);
                }
            }
            else if (!r.TrySkip(wt))
            {
                return "process is truncated";
            }
        }

        return null;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private bool TryText(ReadOnlySpan<byte> bytes, bool intern, out string value)
    {
        if (intern)
        {
            return _intern.TryIntern(bytes, out value);
        }

        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            value = "";
            return false;
        }

        value = StrictUtf8.GetString(bytes);
        return true;
    }
}
