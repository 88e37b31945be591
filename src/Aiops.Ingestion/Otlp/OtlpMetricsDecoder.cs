using System.Buffers;
using Aiops.Core;
using Aiops.Ingestion.Text;

namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Decodes OTLP <c>ExportMetricsServiceRequest</c> protobuf (the Collector Kafka exporter's
/// <c>otlp_proto</c> encoding) straight from the wire into <see cref="MetricPoint"/>s, with the
/// mapping of <see cref="MetricMapper"/> (gauges, delta and cumulative sums with reset detection,
/// histogram and exponential-histogram quantiles, exemplars).
/// <para>Cost: no allocation per data point in steady state. Strings (service, metric name, unit,
/// canonical label set) go through a bounded intern cache, labels are sorted in reused buffers,
/// histogram buckets land in reused scratch arrays, and output goes to the caller's
/// <see cref="DecodeBatch"/>.</para>
/// <para>Bad input never throws: a malformed resource, metric or data point adds a
/// <see cref="DecodeError"/> (position = byte offset in the payload) and the decoder continues
/// with its siblings, since the parent's length prefix still says where they are. Only a broken
/// top-level frame stops the payload, keeping what was decoded before it.</para>
/// Not thread-safe; one instance per consumer (it owns cumulative state per series).
/// </summary>
public sealed partial class OtlpMetricsDecoder
{
    private const string UnknownService = "unknown_service";

    private readonly DecodeOptions _options;
    private readonly PayloadDecoder _decodePayload;
    private readonly ResourceEntryDecoder _decodeEntry;
    private readonly StringInternCache _intern;
    private readonly LabelSetBuilder _labels = new();
    private readonly MetricMapper _mapper;
    private readonly HistogramData _histogram = new();
    private byte[] _text = new byte[256];

    /// <summary>Creates a decoder with the given limits (defaults when null).</summary>
    public OtlpMetricsDecoder(DecodeOptions? options = null)
    {
        _options = options ?? DecodeOptions.Default;
        _decodePayload = Decode;
        _decodeEntry = DecodeResourceMetrics;
        _intern = new StringInternCache(_options.InternCacheCapacity);
        _mapper = new MetricMapper(_options);
    }

    /// <summary>Cumulative series whose previous point is remembered.</summary>
    public int TrackedSeries => _mapper.SeriesCount;

    /// <summary>Newest accepted event time (Unix ms), the reference for the future/past bounds.</summary>
    public long WatermarkMs => _mapper.Timestamps.WatermarkMs;

    /// <summary>Decodes a payload held in a sequence (copied to a pooled buffer when it is not contiguous).</summary>
    public void Decode(in ReadOnlySequence<byte> payload, DecodeBatch batch) =>
        OtlpExportRequest.Decode(payload, batch, _options, _decodePayload);

    /// <summary>Decodes one <c>ExportMetricsServiceRequest</c> into <paramref name="batch"/>.</summary>
    public void Decode(ReadOnlySpan<byte> payload, DecodeBatch batch) =>
        OtlpExportRequest.Walk(payload, batch, _options, "ExportMetricsServiceRequest", "resource_metrics", _decodeEntry);

    internal static DecodeError Skipped(string message, int field, int wt, long at) =>
        wt is WireType.StartGroup or WireType.EndGroup or > WireType.Fixed32
            ? new DecodeError(DecodeErrorKind.WrongWireType, $"{message}: field {field} has unsupported wire type {WireType.Name(wt)}", at)
            : new DecodeError(DecodeErrorKind.Truncated, $"{message}: field {field} at byte {at} is truncated", at);

    private static DecodeError Status(ProtoStatus status, string what, long at) => status switch
    {
        ProtoStatus.WrongWireType => new DecodeError(DecodeErrorKind.WrongWireType, $"{what}: a field has the wrong wire type", at),
        ProtoStatus.TooDeep => new DecodeError(DecodeErrorKind.InvalidValue, $"{what}: attribute value nested too deeply", at),
        _ => new DecodeError(DecodeErrorKind.Truncated, $"{what}: truncated", at),
    };

    /// <summary>Reads <c>service.name</c> from a <c>Resource</c>.</summary>
    internal ProtoStatus ReadServiceName(ReadOnlySpan<byte> resource, out ReadOnlySpan<byte> service)
    {
        service = default;
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

            if (key.SequenceEqual("service.name"u8) && AnyValueText.TryGetString(value, out ReadOnlySpan<byte> s))
            {
                service = s;
            }
        }

        return ProtoStatus.Ok;
    }

    private void DecodeResourceMetrics(ReadOnlySpan<byte> rm, int baseOffset, DecodeBatch batch)
    {
        // Pass 1: the resource (normally first on the wire, but field order is not guaranteed).
        string service = UnknownService;
        var r = new ProtoReader(rm);
        while (!r.IsAtEnd)
        {
            int at = baseOffset + r.Position;
            if (!r.TryReadTag(out int field, out int wt))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, "ResourceMetrics: malformed field tag", at));
                return;
            }

            if (field == OtlpFields.ResourceEntryResource && wt == WireType.LengthDelimited)
            {
                if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> resource))
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, "ResourceMetrics.resource: length runs past the end of its parent", at));
                    return;
                }

                ProtoStatus st = ReadServiceName(resource, out ReadOnlySpan<byte> name);
                if (st != ProtoStatus.Ok)
                {
                    batch.Errors.Add(Status(st, "ResourceMetrics.resource", at));
                    return;
                }

                if (!name.IsEmpty && !_intern.TryIntern(name, out service))
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, "ResourceMetrics.resource: service.name is not valid UTF-8", at));
                    return;
                }
            }
            else if (field == OtlpFields.ResourceEntryResource || (field == OtlpFields.ResourceEntryScopes && wt != WireType.LengthDelimited))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"ResourceMetrics field {field} has wire type {WireType.Name(wt)}, expected LEN", at));
                return;
            }
            else if (!r.TrySkip(wt))
            {
                batch.Errors.Add(Skipped("ResourceMetrics", field, wt, at));
                return;
            }
        }

        // Pass 2: scope_metrics → metrics.
        var items = new ScopeItemWalker(rm, baseOffset, batch, "ScopeMetrics", "metrics");
        while (items.MoveNext(out ReadOnlySpan<byte> metric, out _, out int metricOffset))
        {
            DecodeMetric(metric, metricOffset, service, batch);
        }
    }

    private void DecodeMetric(ReadOnlySpan<byte> metric, int baseOffset, string service, DecodeBatch batch)
    {
        ReadOnlySpan<byte> name = default, unit = default, data = default;
        int dataField = 0, dataOffset = 0;
        MetricKind? hint = null;
        var r = new ProtoReader(metric);
        while (!r.IsAtEnd)
        {
            int at = baseOffset + r.Position;
            if (!r.TryReadTag(out int field, out int wt))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, "Metric: malformed field tag", at));
                return;
            }

            switch (field)
            {
                case OtlpFields.MetricName:
                case OtlpFields.MetricUnit:
                case OtlpFields.MetricGauge:
                case OtlpFields.MetricSum:
                case OtlpFields.MetricHistogram:
                case OtlpFields.MetricExponentialHistogram:
                case OtlpFields.MetricMetadata:
                    {
                        if (wt != WireType.LengthDelimited)
                        {
                            batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"Metric field {field} has wire type {WireType.Name(wt)}, expected LEN", at));
                            return;
                        }

                        if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> value))
                        {
                            batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"Metric field {field}: length runs past the end of its parent", at));
                            return;
                        }

                        if (field == OtlpFields.MetricName)
                        {
                            name = value;
                        }
                        else if (field == OtlpFields.MetricUnit)
                        {
                            unit = value;
                        }
                        else if (field == OtlpFields.MetricMetadata)
                        {
                            if (AnyValueText.ReadKeyValue(value, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> v) == ProtoStatus.Ok &&
                                key.SequenceEqual("aiops.kind"u8) && AnyValueText.TryGetString(v, out ReadOnlySpan<byte> kindName) &&
                                MetricKindRules.TryParseKindName(kindName, out MetricKind k))
                            {
                                hint = k;
                            }
                        }
                        else
                        {
                            data = value;
                            dataField = field;
                            dataOffset = baseOffset + r.Position - value.Length;
                        }

                        break;
                    }

                default:
                    if (!r.TrySkip(wt))
                    {
                        batch.Errors.Add(Skipped("Metric", field, wt, at));
                        return;
                    }

                    break;
            }
        }

        if (name.IsEmpty)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"Metric of service '{service}' has no name", baseOffset));
            return;
        }

        if (!_intern.TryIntern(name, out string metricName) || !_intern.TryIntern(unit, out string unitText))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, $"Metric of service '{service}': name or unit is not valid UTF-8", baseOffset));
            return;
        }

        if (dataField == 0)
        {
            return; // summary or no data: nothing Aiops models (summaries carry no buckets to re-aggregate)
        }

        var info = new MetricInfo { Service = service, Name = metricName, Unit = unitText, KindHint = hint };
        DecodeData(data, dataField, dataOffset, info, batch);
    }

    private void DecodeData(ReadOnlySpan<byte> data, int dataField, int baseOffset, in MetricInfo info, DecodeBatch batch)
    {
        // Pass 1: temporality and monotonicity (scalars, may follow the points on the wire).
        ulong temporality = 0, monotonic = 0;
        var r = new ProtoReader(data);
        while (!r.IsAtEnd)
        {
            int at = baseOffset + r.Position;
            if (!r.TryReadTag(out int field, out int wt))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"metric '{info.Name}': malformed field tag", at));
                return;
            }

            bool scalar = dataField != OtlpFields.MetricGauge && (field == OtlpFields.AggregationTemporality || (dataField == OtlpFields.MetricSum && field == OtlpFields.IsMonotonic));
            if (scalar)
            {
                if (wt != WireType.Varint)
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"metric '{info.Name}': field {field} has wire type {WireType.Name(wt)}, expected VARINT", at));
                    return;
                }

                if (!r.TryReadVarint(out ulong v))
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"metric '{info.Name}': field {field} is truncated", at));
                    return;
                }

                if (field == OtlpFields.AggregationTemporality)
                {
                    temporality = v;
                }
                else
                {
                    monotonic = v;
                }
            }
            else if (field == OtlpFields.DataPoints && wt != WireType.LengthDelimited)
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.WrongWireType, $"metric '{info.Name}': data_points has wire type {WireType.Name(wt)}, expected LEN", at));
                return;
            }
            else if (!r.TrySkip(wt))
            {
                batch.Errors.Add(Skipped($"metric '{info.Name}'", field, wt, at));
                return;
            }
        }

        if (dataField != OtlpFields.MetricGauge && temporality is not (1 or 2))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"metric '{info.Name}' of service '{info.Service}': aggregation_temporality {temporality} is not DELTA (1) or CUMULATIVE (2)", baseOffset));
            return;
        }

        var t = (Temporality)temporality;
        r = new ProtoReader(data);
        while (!r.IsAtEnd)
        {
            r.TryReadTag(out int field, out int wt);
            if (field != OtlpFields.DataPoints)
            {
                r.TrySkip(wt);
                continue;
            }

            r.TryReadLengthDelimited(out ReadOnlySpan<byte> point);
            int pointOffset = baseOffset + r.Position - point.Length;
            switch (dataField)
            {
                case OtlpFields.MetricGauge:
                case OtlpFields.MetricSum:
                    DecodeNumberPoint(point, pointOffset, info, dataField == OtlpFields.MetricSum, monotonic != 0, t, batch);
                    break;
                case OtlpFields.MetricHistogram:
                    DecodeHistogramPoint(point, pointOffset, info, t, batch);
                    break;
                default:
                    DecodeExponentialPoint(point, pointOffset, info, t, batch);
                    break;
            }
        }
    }

    /// <summary>Adds one data-point attribute to the label set, enforcing the label guards. Null when fine, else the error.</summary>
    private DecodeError? AddLabel(ReadOnlySpan<byte> keyValue, in MetricInfo info, long at, ref double total)
    {
        ProtoStatus st = AnyValueText.ReadKeyValue(keyValue, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
        if (st != ProtoStatus.Ok)
        {
            return Status(st, $"metric '{info.Name}' attribute", at);
        }

        if (key.SequenceEqual("aiops.total"u8))
        {
            AnyValueText.TryGetNumber(value, out total);
            return null;
        }

        if (_labels.Count >= _options.MaxLabelsPerPoint)
        {
            return new DecodeError(DecodeErrorKind.LabelLimitExceeded, $"metric '{info.Name}' of service '{info.Service}': data point has more than {_options.MaxLabelsPerPoint} attributes", at);
        }

        if (!AnyValueText.TryGetString(value, out ReadOnlySpan<byte> text))
        {
            int length = 0;
            st = AnyValueText.Append(value, ref _text, ref length);
            if (st != ProtoStatus.Ok)
            {
                return Status(st, $"metric '{info.Name}' attribute", at);
            }

            text = _text.AsSpan(0, length);
        }

        if (text.Length > _options.MaxLabelValueLength)
        {
            return new DecodeError(DecodeErrorKind.LabelLimitExceeded, $"metric '{info.Name}' of service '{info.Service}': attribute '{System.Text.Encoding.UTF8.GetString(key)}' value has {text.Length} bytes, limit {_options.MaxLabelValueLength}", at);
        }

        _labels.Add(key, text);
        return null;
    }

    private bool BuildLabels(in MetricInfo info, long at, DecodeBatch batch, out string labels)
    {
        if (_intern.TryIntern(_labels.Build(), out labels))
        {
            return true;
        }

        batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, $"metric '{info.Name}' of service '{info.Service}': an attribute is not valid UTF-8", at));
        return false;
    }

    private DecodeError? ReadExemplar(ReadOnlySpan<byte> exemplar, in MetricInfo info, long at)
    {
        var e = default(ExemplarData);
        var r = new ProtoReader(exemplar);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return new DecodeError(DecodeErrorKind.Truncated, $"metric '{info.Name}': exemplar is truncated", at);
            }

            bool ok;
            switch (field)
            {
                case OtlpFields.ExemplarTime:
                case OtlpFields.ExemplarAsDouble:
                case OtlpFields.ExemplarAsInt:
                    if (wt != WireType.Fixed64)
                    {
                        return new DecodeError(DecodeErrorKind.WrongWireType, $"metric '{info.Name}': exemplar field {field} has wire type {WireType.Name(wt)}, expected I64", at);
                    }

                    ok = r.TryReadFixed64(out ulong bits);
                    if (field == OtlpFields.ExemplarTime)
                    {
                        e.TimeNanos = (long)bits;
                    }
                    else
                    {
                        e.Value = field == OtlpFields.ExemplarAsDouble ? BitConverter.UInt64BitsToDouble(bits) : (long)bits;
                    }

                    break;
                case OtlpFields.ExemplarSpanId:
                case OtlpFields.ExemplarTraceId:
                    if (wt != WireType.LengthDelimited)
                    {
                        return new DecodeError(DecodeErrorKind.WrongWireType, $"metric '{info.Name}': exemplar id has wire type {WireType.Name(wt)}, expected LEN", at);
                    }

                    ok = r.TryReadLengthDelimited(out ReadOnlySpan<byte> id);
                    if (ok && !(field == OtlpFields.ExemplarSpanId ? HexIds.TryReadSpanId(id, out e.SpanId) : HexIds.TryReadTraceId(id, out e.TraceId)))
                    {
                        return new DecodeError(DecodeErrorKind.InvalidId, $"metric '{info.Name}': exemplar {(field == OtlpFields.ExemplarSpanId ? "span_id" : "trace_id")} has {id.Length} bytes", at);
                    }

                    break;
                default:
                    ok = r.TrySkip(wt);
                    break;
            }

            if (!ok)
            {
                return new DecodeError(DecodeErrorKind.Truncated, $"metric '{info.Name}': exemplar is truncated", at);
            }
        }

        if (double.IsFinite(e.Value))
        {
            _mapper.AddExemplar(e);
        }

        return null;
    }

    private void DecodeNumberPoint(ReadOnlySpan<byte> point, int at, in MetricInfo info, bool isSum, bool monotonic, Temporality t, DecodeBatch batch)
    {
        _labels.Reset();
        _mapper.ExemplarCount = 0;
        long start = 0, time = 0;
        double value = 0, total = 0;
        bool hasValue = false;
        uint flags = 0;
        DecodeError? error = null;
        var r = new ProtoReader(point);
        while (!r.IsAtEnd && error is null)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                error = new DecodeError(DecodeErrorKind.Truncated, $"metric '{info.Name}': data point is truncated", at);
                break;
            }

            switch (field)
            {
                case OtlpFields.PointStartTime:
                case OtlpFields.PointTime:
                case OtlpFields.NumberAsDouble:
                case OtlpFields.NumberAsInt:
                    {
                        if (wt != WireType.Fixed64)
                        {
                            error = new DecodeError(DecodeErrorKind.WrongWireType, $"metric '{info.Name}': data point field {field} has wire type {WireType.Name(wt)}, expected I64", at);
                            break;
                        }

                        if (!r.TryReadFixed64(out ulong bits))
                        {
                            error = new DecodeError(DecodeErrorKind.Truncated, $"metric '{info.Name}': data point field {field} is truncated", at);
                            break;
                        }

                        switch (field)
                        {
                            case OtlpFields.PointStartTime: start = (long)bits; break;
                            case OtlpFields.PointTime: time = (long)bits; break;
                            case OtlpFields.NumberAsDouble: value = BitConverter.UInt64BitsToDouble(bits); hasValue = true; break;
                            default: value = (long)bits; hasValue = true; break;
                        }

                        break;
                    }

                case OtlpFields.NumberAttributes:
                case OtlpFields.NumberExemplars:
                    {
                        if (wt != WireType.LengthDelimited)
                        {
                            error = new DecodeError(DecodeErrorKind.WrongWireType, $"metric '{info.Name}': data point field {field} has wire type {WireType.Name(wt)}, expected LEN", at);
                            break;
                        }

                        if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> sub))
                        {
                            error = new DecodeError(DecodeErrorKind.Truncated, $"metric '{info.Name}': data point field {field} is truncated", at);
                            break;
                        }

                        error = field == OtlpFields.NumberAttributes ? AddLabel(sub, info, at, ref total) : ReadExemplar(sub, info, at);
                        break;
                    }

                case OtlpFields.NumberFlags:
                    {
                        if (wt != WireType.Varint || !r.TryReadVarint(out ulong f))
                        {
                            error = new DecodeError(wt != WireType.Varint ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"metric '{info.Name}': data point flags are malformed", at);
                            break;
                        }

                        flags = (uint)f;
                        break;
                    }

                default:
                    if (!r.TrySkip(wt))
                    {
                        error = Skipped($"metric '{info.Name}' data point", field, wt, at);
                    }

                    break;
            }
        }

        if (error is { } e)
        {
            batch.Errors.Add(e);
            _mapper.ExemplarCount = 0;
            return;
        }

        if ((flags & OtlpFields.FlagNoRecordedValue) != 0)
        {
            _mapper.ExemplarCount = 0;
            return; // an explicit gap, not a value
        }

        if (!hasValue)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"metric '{info.Name}' of service '{info.Service}': data point has neither as_double nor as_int", at));
            _mapper.ExemplarCount = 0;
            return;
        }

        if (!BuildLabels(info, at, batch, out string labels))
        {
            _mapper.ExemplarCount = 0;
            return;
        }

        if (isSum)
        {
            _mapper.Sum(info, labels, start, time, value, monotonic, t, batch, at);
        }
        else
        {
            _mapper.Gauge(info, labels, time, value, total, batch, at);
        }
    }

    private static bool ReadPackedOrSingle(ref ProtoReader r, int wt, int expectedScalarWireType, HistogramData h, int which)
    {
        // Repeated scalars may arrive packed (one LEN field) or one field per element.
        if (wt == WireType.LengthDelimited)
        {
            if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> packed))
            {
                return false;
            }

            var p = new ProtoReader(packed);
            while (!p.IsAtEnd)
            {
                if (!ReadScalar(ref p, expectedScalarWireType, h, which))
                {
                    return false;
                }
            }

            return true;
        }

        return wt == expectedScalarWireType && ReadScalar(ref r, expectedScalarWireType, h, which);
    }

    private static bool ReadScalar(ref ProtoReader r, int wt, HistogramData h, int which)
    {
        ulong v;
        if (wt == WireType.Fixed64)
        {
            if (!r.TryReadFixed64(out v))
            {
                return false;
            }
        }
        else if (!r.TryReadVarint(out v))
        {
            return false;
        }

        return which switch
        {
            0 => h.AddCount(v),
            1 => h.AddBound(BitConverter.UInt64BitsToDouble(v)),
            2 => h.AddPositive(v),
            _ => h.AddNegative(v),
        };
    }

    private void DecodeHistogramPoint(ReadOnlySpan<byte> point, int at, in MetricInfo info, Temporality t, DecodeBatch batch)
    {
        _labels.Reset();
        _mapper.ExemplarCount = 0;
        HistogramData h = _histogram;
        h.Reset();
        uint flags = 0;
        double ignoredTotal = 0;
        DecodeError? error = null;
        var r = new ProtoReader(point);
        while (!r.IsAtEnd && error is null)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                error = new DecodeError(DecodeErrorKind.Truncated, $"histogram '{info.Name}': data point is truncated", at);
                break;
            }

            switch (field)
            {
                case OtlpFields.PointStartTime:
                case OtlpFields.PointTime:
                case OtlpFields.HistogramCount:
                case OtlpFields.HistogramSum:
                case OtlpFields.HistogramMin:
                case OtlpFields.HistogramMax:
                    {
                        if (wt != WireType.Fixed64)
                        {
                            error = new DecodeError(DecodeErrorKind.WrongWireType, $"histogram '{info.Name}': field {field} has wire type {WireType.Name(wt)}, expected I64", at);
                            break;
                        }

                        if (!r.TryReadFixed64(out ulong bits))
                        {
                            error = new DecodeError(DecodeErrorKind.Truncated, $"histogram '{info.Name}': field {field} is truncated", at);
                            break;
                        }

                        double d = BitConverter.UInt64BitsToDouble(bits);
                        switch (field)
                        {
                            case OtlpFields.PointStartTime: h.StartNanos = (long)bits; break;
                            case OtlpFields.PointTime: h.TimeNanos = (long)bits; break;
                            case OtlpFields.HistogramCount: h.Count = bits; break;
                            case OtlpFields.HistogramSum: h.Sum = d; break;
                            case OtlpFields.HistogramMin: h.Min = double.IsNaN(d) ? double.PositiveInfinity : d; break;
                            default: h.Max = double.IsNaN(d) ? double.PositiveInfinity : d; break;
                        }

                        break;
                    }

                case OtlpFields.HistogramBucketCounts:
                case OtlpFields.HistogramExplicitBounds:
                    if (!ReadPackedOrSingle(ref r, wt, WireType.Fixed64, h, field == OtlpFields.HistogramBucketCounts ? 0 : 1))
                    {
                        error = new DecodeError(wt is WireType.LengthDelimited or WireType.Fixed64 ? DecodeErrorKind.Truncated : DecodeErrorKind.WrongWireType, $"histogram '{info.Name}': {(field == OtlpFields.HistogramBucketCounts ? "bucket_counts" : "explicit_bounds")} is malformed or has more than {HistogramData.MaxBuckets} entries", at);
                    }

                    break;

                case OtlpFields.HistogramAttributes:
                case OtlpFields.HistogramExemplars:
                    {
                        if (wt != WireType.LengthDelimited || !r.TryReadLengthDelimited(out ReadOnlySpan<byte> sub))
                        {
                            error = new DecodeError(wt != WireType.LengthDelimited ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"histogram '{info.Name}': field {field} is malformed", at);
                            break;
                        }

                        error = field == OtlpFields.HistogramAttributes ? AddLabel(sub, info, at, ref ignoredTotal) : ReadExemplar(sub, info, at);
                        break;
                    }

                case OtlpFields.HistogramFlags:
                    if (wt != WireType.Varint || !r.TryReadVarint(out ulong f))
                    {
                        error = new DecodeError(DecodeErrorKind.WrongWireType, $"histogram '{info.Name}': flags are malformed", at);
                        break;
                    }

                    flags = (uint)f;
                    break;

                default:
                    if (!r.TrySkip(wt))
                    {
                        error = Skipped($"histogram '{info.Name}' data point", field, wt, at);
                    }

                    break;
            }
        }

        FinishHistogram(error, flags, info, t, exponential: false, batch, at);
    }

    private void FinishHistogram(DecodeError? error, uint flags, in MetricInfo info, Temporality t, bool exponential, DecodeBatch batch, int at)
    {
        if (error is { } e)
        {
            batch.Errors.Add(e);
            _mapper.ExemplarCount = 0;
            return;
        }

        if ((flags & OtlpFields.FlagNoRecordedValue) != 0 || !BuildLabels(info, at, batch, out string labels))
        {
            _mapper.ExemplarCount = 0;
            return;
        }

        _mapper.Histogram(info, labels, _histogram, t, exponential, batch, at);
    }

    private static bool ReadBuckets(ReadOnlySpan<byte> buckets, HistogramData h, bool positive)
    {
        var r = new ProtoReader(buckets);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return false;
            }

            if (field == OtlpFields.BucketsOffset)
            {
                if (wt != WireType.Varint || !r.TryReadVarint(out ulong zigzag))
                {
                    return false;
                }

                int offset = (int)((uint)zigzag >> 1) ^ -(int)(zigzag & 1);
                if (positive)
                {
                    h.PositiveOffset = offset;
                }
                else
                {
                    h.NegativeOffset = offset;
                }
            }
            else if (field == OtlpFields.BucketsCounts)
            {
                if (!ReadPackedOrSingle(ref r, wt, WireType.Varint, h, positive ? 2 : 3))
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

    private void DecodeExponentialPoint(ReadOnlySpan<byte> point, int at, in MetricInfo info, Temporality t, DecodeBatch batch)
    {
        _labels.Reset();
        _mapper.ExemplarCount = 0;
        HistogramData h = _histogram;
        h.Reset();
        uint flags = 0;
        double ignoredTotal = 0;
        DecodeError? error = null;
        var r = new ProtoReader(point);
        while (!r.IsAtEnd && error is null)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                error = new DecodeError(DecodeErrorKind.Truncated, $"exponential histogram '{info.Name}': data point is truncated", at);
                break;
            }

            switch (field)
            {
                case OtlpFields.PointStartTime:
                case OtlpFields.PointTime:
                case OtlpFields.ExpCount:
                case OtlpFields.ExpSum:
                case OtlpFields.ExpZeroCount:
                case OtlpFields.ExpMin:
                case OtlpFields.ExpMax:
                case OtlpFields.ExpZeroThreshold:
                    {
                        if (wt != WireType.Fixed64)
                        {
                            error = new DecodeError(DecodeErrorKind.WrongWireType, $"exponential histogram '{info.Name}': field {field} has wire type {WireType.Name(wt)}, expected I64", at);
                            break;
                        }

                        if (!r.TryReadFixed64(out ulong bits))
                        {
                            error = new DecodeError(DecodeErrorKind.Truncated, $"exponential histogram '{info.Name}': field {field} is truncated", at);
                            break;
                        }

                        double d = BitConverter.UInt64BitsToDouble(bits);
                        switch (field)
                        {
                            case OtlpFields.PointStartTime: h.StartNanos = (long)bits; break;
                            case OtlpFields.PointTime: h.TimeNanos = (long)bits; break;
                            case OtlpFields.ExpCount: h.Count = bits; break;
                            case OtlpFields.ExpSum: h.Sum = d; break;
                            case OtlpFields.ExpZeroCount: h.ZeroCount = bits; break;
                            case OtlpFields.ExpMin: h.Min = double.IsNaN(d) ? double.PositiveInfinity : d; break;
                            case OtlpFields.ExpMax: h.Max = double.IsNaN(d) ? double.PositiveInfinity : d; break;
                            default: break; // zero_threshold: the zero bucket is reported as 0
                        }

                        break;
                    }

                case OtlpFields.ExpScale:
                    {
                        if (wt != WireType.Varint || !r.TryReadVarint(out ulong zigzag))
                        {
                            error = new DecodeError(wt != WireType.Varint ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"exponential histogram '{info.Name}': scale is malformed", at);
                            break;
                        }

                        long scale = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
                        if (scale is < -10 or > 20)
                        {
                            error = new DecodeError(DecodeErrorKind.InvalidValue, $"exponential histogram '{info.Name}': scale {scale} is outside the specification's range [-10, 20]", at);
                            break;
                        }

                        h.Scale = (int)scale;
                        break;
                    }

                case OtlpFields.ExpPositive:
                case OtlpFields.ExpNegative:
                    {
                        if (wt != WireType.LengthDelimited || !r.TryReadLengthDelimited(out ReadOnlySpan<byte> buckets) || !ReadBuckets(buckets, h, field == OtlpFields.ExpPositive))
                        {
                            error = new DecodeError(wt != WireType.LengthDelimited ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"exponential histogram '{info.Name}': {(field == OtlpFields.ExpPositive ? "positive" : "negative")} buckets are malformed or exceed {HistogramData.MaxBuckets}", at);
                        }

                        break;
                    }

                case OtlpFields.ExpAttributes:
                case OtlpFields.ExpExemplars:
                    {
                        if (wt != WireType.LengthDelimited || !r.TryReadLengthDelimited(out ReadOnlySpan<byte> sub))
                        {
                            error = new DecodeError(wt != WireType.LengthDelimited ? DecodeErrorKind.WrongWireType : DecodeErrorKind.Truncated, $"exponential histogram '{info.Name}': field {field} is malformed", at);
                            break;
                        }

                        error = field == OtlpFields.ExpAttributes ? AddLabel(sub, info, at, ref ignoredTotal) : ReadExemplar(sub, info, at);
                        break;
                    }

                case OtlpFields.ExpFlags:
                    if (wt != WireType.Varint || !r.TryReadVarint(out ulong f))
                    {
                        error = new DecodeError(DecodeErrorKind.WrongWireType, $"exponential histogram '{info.Name}': flags are malformed", at);
                        break;
                    }

                    flags = (uint)f;
                    break;

                default:
                    if (!r.TrySkip(wt))
                    {
                        error = Skipped($"exponential histogram '{info.Name}' data point", field, wt, at);
                    }

                    break;
            }
        }

        FinishHistogram(error, flags, info, t, exponential: true, batch, at);
    }
}
