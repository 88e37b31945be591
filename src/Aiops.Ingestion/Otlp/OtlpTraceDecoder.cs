using System.Buffers;
using Aiops.Core;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Decodes OTLP <c>ExportTraceServiceRequest</c> protobuf into <see cref="SpanRecord"/>s: ids,
/// kind, status, times, the resource's <c>service.name</c> / <c>service.instance.id</c> /
/// <c>service.version</c>, the peer attributes lifted into properties (<c>peer.service</c>,
/// <c>server.address</c> or <c>net.peer.name</c>, <c>db.system</c>, <c>messaging.system</c>) and the
/// other attributes kept as text. Events and links are skipped. A malformed span adds a
/// <see cref="DecodeError"/> and its siblings are still returned. Strings are interned (values
/// only up to <see cref="MaxInternedValueBytes"/>, so unique values such as URLs do not churn the
/// cache). Not thread-safe.
/// </summary>
public sealed partial class OtlpTraceDecoder
{
    /// <summary>Attribute values longer than 64 bytes are mostly unique (URLs, statements): not interned.</summary>
    private const int MaxInternedValueBytes = 64;

    private const string UnknownService = "unknown_service";

    private readonly DecodeOptions _options;
    private readonly PayloadDecoder _decodePayload;
    private readonly ResourceEntryDecoder _decodeEntry;
    private readonly StringInternCache _intern;
    private readonly TimestampGuard _timestamps;
    private readonly List<SpanAttribute> _attributes = new(32);
    private byte[] _text = new byte[256];

    /// <summary>Creates a decoder with the given limits (defaults when null).</summary>
    public OtlpTraceDecoder(DecodeOptions? options = null)
    {
        _options = options ?? DecodeOptions.Default;
        _decodePayload = Decode;
        _decodeEntry = DecodeResourceSpans;
        _intern = new StringInternCache(_options.InternCacheCapacity);
        _timestamps = new TimestampGuard(_options);
    }

    /// <summary>Decodes a payload held in a sequence (copied to a pooled buffer when it is not contiguous).</summary>
    public void Decode(in ReadOnlySequence<byte> payload, DecodeBatch batch) =>
        OtlpExportRequest.Decode(payload, batch, _options, _decodePayload);

    /// <summary>Decodes one <c>ExportTraceServiceRequest</c> into <paramref name="batch"/>.</summary>
    public void Decode(ReadOnlySpan<byte> payload, DecodeBatch batch) =>
        OtlpExportRequest.Walk(payload, batch, _options, "ExportTraceServiceRequest", "resource_spans", _decodeEntry);

    private ProtoStatus ReadResource(ReadOnlySpan<byte> resource, ref string service, ref string? instance, ref string? version, out bool badUtf8)
    {
        badUtf8 = false;
        var r = new ProtoReader(resource);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return ProtoStatus.Truncated;
            }

            if (field != OtlpFields.ResourceAttributes)
            {
                if (!r.TrySkip(wt))
                {
                    return ProtoStatus.Truncated;
                }

                continue;
            }

            if (wt != WireType.LengthDelimited)
            {
                return ProtoStatus.WrongWireType;
            }

            if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> kv))
            {
                return ProtoStatus.Truncated;
            }

            ProtoStatus st = AnyValueText.ReadKeyValue(kv, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
            if (st != ProtoStatus.Ok)
            {
                return st;
            }

            if (!AnyValueText.TryGetString(value, out ReadOnlySpan<byte> s) || s.IsEmpty)
            {
                continue;
            }

            string? text = null;
            if (key.SequenceEqual("service.name"u8) || key.SequenceEqual("service.instance.id"u8) || key.SequenceEqual("service.version"u8))
            {
                if (!_intern.TryIntern(s, out text))
                {
                    badUtf8 = true;
                    return ProtoStatus.Ok;
                }
            }

            if (key.SequenceEqual("service.name"u8))
            {
                service = text!;
            }
            else if (key.SequenceEqual("service.instance.id"u8))
            {
                instance = text;
            }
            else if (key.SequenceEqual("service.version"u8))
            {
                version = text;
            }
        }

        return ProtoStatus.Ok;
    }

    private void DecodeResourceSpans(ReadOnlySpan<byte> rs, int baseOffset, DecodeBatch batch)
    {
        string service = UnknownService;
        string? instance = null, version = null;
        var r = new ProtoReader(rs);
        while (!r.IsAtEnd)
        {
            int at = baseOffset + r.Position;
            if (!r.TryReadTag(out int field, out int wt))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, "ResourceSpans: malformed field tag", at));
                return;
            }

            if (field == OtlpFields.ResourceEntryResource && wt == WireType.LengthDelimited)
            {
                if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> resource))
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, "ResourceSpans.resource: length runs past the end of its parent", at));
                    return;
                }

                ProtoStatus st = ReadResource(resource, ref service, ref instance, ref version, out bool badUtf8);
                if (badUtf8)
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, "ResourceSpans.resource: a service attribute is not valid UTF-8", at));
                    return;
                }

                if (st != ProtoStatus.Ok)
                {
                    batch.Errors.Add(new DecodeError(st == ProtoStatus.WrongWireType ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, "ResourceSpans.resource is malformed", at));
                    return;
                }
            }
            else if (field == OtlpFields.ResourceEntryResource || (field == OtlpFields.ResourceEntryScopes && wt != WireType.LengthDelimited))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"ResourceSpans field {field} has wire type {WireType.Name(wt)}, expected LEN", at));
                return;
            }
            else if (!r.TrySkip(wt))
            {
                batch.Errors.Add(OtlpMetricsDecoder.Skipped("ResourceSpans", field, wt, at));
                return;
            }
        }

        var items = new ScopeItemWalker(rs, baseOffset, batch, "ScopeSpans", "spans");
        while (items.MoveNext(out ReadOnlySpan<byte> span, out int at, out _))
        {
            DecodeSpan(span, at, service, instance, version, batch);
        }
    }

    private void DecodeSpan(ReadOnlySpan<byte> span, int at, string service, string? instance, string? version, DecodeBatch batch)
    {
        UInt128 traceId = 0;
        ulong spanId = 0, parentId = 0;
        ReadOnlySpan<byte> name = default;
        ulong kind = 0, status = 0;
        long start = 0, end = 0;
        string? peer = null, server = null, netPeer = null, db = null, messaging = null;
        _attributes.Clear();
        var r = new ProtoReader(span);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"span of service '{service}' is truncated", at));
                return;
            }

            switch (field)
            {
                case OtlpFields.SpanTraceId:
                case OtlpFields.SpanSpanId:
                case OtlpFields.SpanParentSpanId:
                case OtlpFields.SpanName:
                case OtlpFields.SpanAttributes:
                case OtlpFields.SpanStatus:
                    {
                        if (wt != WireType.LengthDelimited)
                        {
                            batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"span of service '{service}': field {field} has wire type {WireType.Name(wt)}, expected LEN", at));
                            return;
                        }

                        if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> v))
                        {
                            batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"span of service '{service}': field {field} runs past the end of the span", at));
                            return;
                        }

                        bool ok = true;
                        switch (field)
                        {
                            case OtlpFields.SpanTraceId: ok = HexIds.TryReadTraceId(v, out traceId); break;
                            case OtlpFields.SpanSpanId: ok = HexIds.TryReadSpanId(v, out spanId); break;
                            case OtlpFields.SpanParentSpanId: ok = HexIds.TryReadSpanId(v, out parentId); break;
                            case OtlpFields.SpanName: name = v; break;
                            case OtlpFields.SpanStatus:
                                if (!ReadStatusCode(v, out status))
                                {
                                    batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"span of service '{service}': status is malformed", at));
                                    return;
                                }

                                break;
                            default:
                                {
                                    DecodeError? e = ReadAttribute(v, service, at, ref peer, ref server, ref netPeer, ref db, ref messaging);
                                    if (e is { } err)
                                    {
                                        batch.Errors.Add(err);
                                        return;
                                    }

                                    break;
                                }
                        }

                        if (!ok)
                        {
                            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidId, $"span of service '{service}': {(field == OtlpFields.SpanTraceId ? "trace_id must be 16 bytes" : "span ids must be 8 bytes")}, got {v.Length}", at));
                            return;
                        }

                        break;
                    }

                case OtlpFields.SpanKind:
                    if (wt != WireType.Varint || !r.TryReadVarint(out kind))
                    {
                        batch.Errors.Add(new DecodeError(wt != WireType.Varint ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"span of service '{service}': kind is malformed", at));
                        return;
                    }

                    break;

                case OtlpFields.SpanStart:
                case OtlpFields.SpanEnd:
                    {
                        if (wt != WireType.Fixed64 || !r.TryReadFixed64(out ulong t))
                        {
                            batch.Errors.Add(new DecodeError(wt != WireType.Fixed64 ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"span of service '{service}': field {field} must be a fixed64 time", at));
                            return;
                        }

                        if (field == OtlpFields.SpanStart)
                        {
                            start = (long)t;
                        }
                        else
                        {
                            end = (long)t;
                        }

                        break;
                    }

                default:
                    if (!r.TrySkip(wt))
                    {
                        batch.Errors.Add(OtlpMetricsDecoder.Skipped($"span of service '{service}'", field, wt, at));
                        return;
                    }

                    break;
            }
        }

        if (traceId == 0 || spanId == 0)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidId, $"span of service '{service}': trace_id and span_id must be present and non-zero", at));
            return;
        }

        if (kind > (ulong)SpanKind.Consumer)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"span of service '{service}': kind {kind} is not a SpanKind (0..5)", at));
            return;
        }

        if (status > (ulong)SpanStatus.Error)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"span of service '{service}': status code {status} is not a StatusCode (0..2)", at));
            return;
        }

        if (start <= 0 || end < start)
        {
            batch.Errors.Add(new DecodeError(start <= 0 ? DecodeErrorKind.MissingField : DecodeErrorKind.InvalidValue, $"span of service '{service}': start {start} ns / end {end} ns are missing or reversed", at));
            return;
        }

        string? tsError = _timestamps.Check(start / 1_000_000);
        if (tsError is not null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.TimestampOutOfRange, $"span of service '{service}': {tsError}", at));
            return;
        }

        if (!_intern.TryIntern(name, out string spanName))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, $"span of service '{service}': name is not valid UTF-8", at));
            return;
        }

        batch.Spans.Add(new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parentId,
            Service = service,
            ServiceInstance = instance,
            ServiceVersion = version,
            Name = spanName,
            Kind = (SpanKind)kind,
            StartUnixNanos = start,
            EndUnixNanos = end,
            Status = (SpanStatus)status,
            PeerService = peer,
            ServerAddress = server ?? netPeer,
            DbSystem = db,
            MessagingSystem = messaging,
            Attributes = _attributes.Count == 0 ? [] : _attributes.ToArray(),
        });
    }

    private static bool ReadStatusCode(ReadOnlySpan<byte> status, out ulong code)
    {
        code = 0;
        var r = new ProtoReader(status);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return false;
            }

            if (field == OtlpFields.StatusCode && wt == WireType.Varint)
            {
                if (!r.TryReadVarint(out code))
                {
                    return false;
                }
            }
            else if (!r.TrySkip(wt))
            {
                return false;
            }
        }

        return true;
    }

    private DecodeError? ReadAttribute(ReadOnlySpan<byte> kv, string service, int at, ref string? peer, ref string? server, ref string? netPeer, ref string? db, ref string? messaging)
    {
        ProtoStatus st = AnyValueText.ReadKeyValue(kv, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
        if (st == ProtoStatus.Ok && !AnyValueText.TryGetString(value, out _))
        {
            int n = 0;
            st = AnyValueText.Append(value, ref _text, ref n);
            value = _text.AsSpan(0, n);
        }
        else if (st == ProtoStatus.Ok)
        {
            AnyValueText.TryGetString(value, out value);
        }

        if (st != ProtoStatus.Ok)
        {
            return new DecodeError(st == ProtoStatus.WrongWireType ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"span of service '{service}': an attribute is malformed", at);
        }

        if (!_intern.TryIntern(key, out string keyText))
        {
            return new DecodeError(DecodeErrorKind.InvalidUtf8, $"span of service '{service}': an attribute key is not valid UTF-8", at);
        }

        string text;
        if (value.Length <= MaxInternedValueBytes)
        {
            if (!_intern.TryIntern(value, out text))
            {
                return new DecodeError(DecodeErrorKind.InvalidUtf8, $"span of service '{service}': attribute '{keyText}' is not valid UTF-8", at);
            }
        }
        else
        {
            if (!System.Text.Unicode.Utf8.IsValid(value))
            {
                return new DecodeError(DecodeErrorKind.InvalidUtf8, $"span of service '{service}': attribute '{keyText}' is not valid UTF-8", at);
            }

            text = System.Text.Encoding.UTF8.GetString(value);
        }

        switch (keyText)
        {
            case SpanAttributeNames.PeerService: peer = text; break;
            case SpanAttributeNames.ServerAddress: server = text; break;
            case SpanAttributeNames.NetPeerName: netPeer = text; break;
            case SpanAttributeNames.DbSystem: db = text; break;
            case SpanAttributeNames.MessagingSystem: messaging = text; break;
            default: _attributes.Add(new SpanAttribute(keyText, text)); break;
        }

        return null;
    }
}
