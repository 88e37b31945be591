using System.Globalization;
using System.Text;
using System.Text.Json;
using Aiops.Core;

namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Helpers for the OTLP/JSON encoding (the protobuf JSON mapping as OTLP specifies it):
/// lowerCamelCase field names (the original snake_case names are accepted too), trace and span ids
/// as hex strings (not base64), 64-bit integers as decimal strings or numbers, enums as integers
/// or their names, doubles as numbers or <c>"NaN"</c>/<c>"Infinity"</c>/<c>"-Infinity"</c>.
/// </summary>
internal static class OtlpJson
{
    public static bool TryGet(JsonElement obj, string camel, string snake, out JsonElement value)
    {
        if (obj.ValueKind == JsonValueKind.Object && (obj.TryGetProperty(camel, out value) || (snake.Length > 0 && obj.TryGetProperty(snake, out value))))
        {
            return value.ValueKind != JsonValueKind.Null;
        }

        value = default;
        return false;
    }

    public static IEnumerable<JsonElement> Array(JsonElement obj, string camel, string snake)
    {
        if (TryGet(obj, camel, snake, out JsonElement a) && a.ValueKind == JsonValueKind.Array)
        {
            return a.EnumerateArray();
        }

        return [];
    }

    public static bool TryInt64(JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind switch
        {
            JsonValueKind.Number => e.TryGetInt64(out value),
            JsonValueKind.String => long.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
    }

    public static bool TryUInt64(JsonElement e, out ulong value)
    {
        value = 0;
        return e.ValueKind switch
        {
            JsonValueKind.Number => e.TryGetUInt64(out value),
            JsonValueKind.String => ulong.TryParse(e.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
    }

    public static bool TryDouble(JsonElement e, out double value)
    {
        value = 0;
        if (e.ValueKind == JsonValueKind.Number)
        {
            return e.TryGetDouble(out value);
        }

        if (e.ValueKind == JsonValueKind.String)
        {
            switch (e.GetString())
            {
                case "NaN": value = double.NaN; return true;
                case "Infinity": value = double.PositiveInfinity; return true;
                case "-Infinity": value = double.NegativeInfinity; return true;
                default: return double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
            }
        }

        return false;
    }

    /// <summary>An enum given as an integer or as one of <paramref name="names"/> (index = value).</summary>
    public static bool TryEnum(JsonElement e, string[] names, out long value)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            return e.TryGetInt64(out value);
        }

        value = -1;
        if (e.ValueKind == JsonValueKind.String)
        {
            int i = System.Array.IndexOf(names, e.GetString());
            value = i;
            return i >= 0;
        }

        return false;
    }

    public static readonly string[] TemporalityNames = ["AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA", "AGGREGATION_TEMPORALITY_CUMULATIVE"];
    public static readonly string[] SpanKindNames = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"];
    public static readonly string[] StatusNames = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

    /// <summary>Renders an OTLP/JSON <c>AnyValue</c> object as text (same conventions as <see cref="AnyValueText"/>).</summary>
    public static string? AnyValueToText(JsonElement any)
    {
        if (any.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (JsonProperty p in any.EnumerateObject())
        {
            switch (p.Name)
            {
                case "stringValue" or "string_value":
                    return p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                case "boolValue" or "bool_value":
                    return p.Value.ValueKind switch { JsonValueKind.True => "true", JsonValueKind.False => "false", _ => null };
                case "intValue" or "int_value":
                    return TryInt64(p.Value, out long l) ? l.ToString(CultureInfo.InvariantCulture) : null;
                case "doubleValue" or "double_value":
                    return TryDouble(p.Value, out double d) ? d.ToString("R", CultureInfo.InvariantCulture) : null;
                case "bytesValue" or "bytes_value":
                    return p.Value.GetString();
                case "arrayValue" or "array_value":
                    {
                        var sb = new StringBuilder("[");
                        foreach (JsonElement v in Array(p.Value, "values", ""))
                        {
                            if (sb.Length > 1)
                            {
                                sb.Append(',');
                            }

                            sb.Append(AnyValueToText(v));
                        }

                        return sb.Append(']').ToString();
                    }

                case "kvlistValue" or "kvlist_value":
                    {
                        var sb = new StringBuilder("{");
                        foreach (JsonElement kv in Array(p.Value, "values", ""))
                        {
                            if (sb.Length > 1)
                            {
                                sb.Append(',');
                            }

                            sb.Append(kv.TryGetProperty("key", out JsonElement k) ? k.GetString() : "").Append('=');
                            if (kv.TryGetProperty("value", out JsonElement v))
                            {
                                sb.Append(AnyValueToText(v));
                            }
                        }

                        return sb.Append('}').ToString();
                    }
            }
        }

        return null;
    }

    /// <summary>Reads <c>key</c> and the text of <c>value</c> from a KeyValue object.</summary>
    public static bool TryKeyValue(JsonElement kv, out string key, out string? value)
    {
        key = "";
        value = null;
        if (kv.ValueKind != JsonValueKind.Object || !kv.TryGetProperty("key", out JsonElement k) || k.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        key = k.GetString()!;
        if (kv.TryGetProperty("value", out JsonElement v))
        {
            value = AnyValueToText(v);
        }

        return true;
    }

    public static bool TryHexTraceId(JsonElement e, out UInt128 id)
    {
        id = 0;
        if (e.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        string s = e.GetString()!;
        return s.Length == 0 || HexIds.TryParseTraceId(Encoding.ASCII.GetBytes(s), out id);
    }

    public static bool TryHexSpanId(JsonElement e, out ulong id)
    {
        id = 0;
        if (e.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        string s = e.GetString()!;
        return s.Length == 0 || HexIds.TryParseSpanId(Encoding.ASCII.GetBytes(s), out id);
    }

    /// <summary>Reads service attributes of a resource object.</summary>
    public static void ReadResource(JsonElement resourceEntry, out string service, out string? instance, out string? version)
    {
        service = "unknown_service";
        instance = version = null;
        if (!TryGet(resourceEntry, "resource", "resource", out JsonElement resource))
        {
            return;
        }

        foreach (JsonElement kv in Array(resource, "attributes", "attributes"))
        {
            if (!TryKeyValue(kv, out string key, out string? value) || string.IsNullOrEmpty(value))
            {
                continue;
            }

            switch (key)
            {
                case SpanAttributeNames.ServiceName: service = value; break;
                case SpanAttributeNames.ServiceInstanceId: instance = value; break;
                case SpanAttributeNames.ServiceVersion: version = value; break;
            }
        }
    }

    public static DecodeError? Parse(ReadOnlySpan<byte> payload, DecodeOptions options, out JsonDocument? document)
    {
        document = null;
        if (payload.Trim(" \t\r\n"u8).IsEmpty)
        {
            return new DecodeError(DecodeErrorKind.Empty, "record is empty", 0);
        }

        if (payload.Length > options.MaxRecordBytes)
        {
            return new DecodeError(DecodeErrorKind.Oversized, $"record of {payload.Length} bytes exceeds the limit of {options.MaxRecordBytes} bytes", 0);
        }

        if (!System.Text.Unicode.Utf8.IsValid(payload))
        {
            return new DecodeError(DecodeErrorKind.InvalidUtf8, "record is not valid UTF-8", 0);
        }

        try
        {
            document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            return new DecodeError(DecodeErrorKind.MalformedJson, $"malformed OTLP/JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine}: {e.Message}", e.BytePositionInLine ?? -1);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            document = null;
            return new DecodeError(DecodeErrorKind.MalformedJson, "OTLP/JSON request must be a JSON object", 0);
        }

        return null;
    }
}

/// <summary>OTLP/JSON decoding of <c>ExportMetricsServiceRequest</c>, sharing the series state of the protobuf path.</summary>
public sealed partial class OtlpMetricsDecoder
{
    /// <summary>
    /// Decodes one OTLP/JSON <c>ExportMetricsServiceRequest</c> into <paramref name="batch"/> with
    /// the same mapping, state and error reporting as <see cref="Decode(ReadOnlySpan{byte}, DecodeBatch)"/>.
    /// Uses <see cref="JsonDocument"/> (pooled, no reflection): JSON is the optional, slower encoding.
    /// Error positions are -1; reasons carry the JSON path.
    /// </summary>
    public void DecodeJson(ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        DecodeError? parseError = OtlpJson.Parse(payload, _options, out JsonDocument? document);
        if (parseError is { } pe)
        {
            batch.Errors.Add(pe);
            return;
        }

        using (document)
        {
            int ri = 0;
            foreach (JsonElement rm in OtlpJson.Array(document!.RootElement, "resourceMetrics", "resource_metrics"))
            {
                OtlpJson.ReadResource(rm, out string service, out _, out _);
                _intern.TryIntern(Encoding.UTF8.GetBytes(service), out service);
                int si = 0;
                foreach (JsonElement sm in OtlpJson.Array(rm, "scopeMetrics", "scope_metrics"))
                {
                    int mi = 0;
                    foreach (JsonElement metric in OtlpJson.Array(sm, "metrics", "metrics"))
                    {
                        DecodeJsonMetric(metric, service, $"resourceMetrics[{ri}].scopeMetrics[{si}].metrics[{mi}]", batch);
                        mi++;
                    }

                    si++;
                }

                ri++;
            }
        }
    }

    private void DecodeJsonMetric(JsonElement metric, string service, string path, DecodeBatch batch)
    {
        if (!OtlpJson.TryGet(metric, "name", "name", out JsonElement nameEl) || nameEl.ValueKind != JsonValueKind.String || nameEl.GetString() is not { Length: > 0 } rawName)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"{path}: metric of service '{service}' has no name"));
            return;
        }

        string rawUnit = OtlpJson.TryGet(metric, "unit", "unit", out JsonElement unitEl) && unitEl.ValueKind == JsonValueKind.String ? unitEl.GetString()! : "";
        _intern.TryIntern(Encoding.UTF8.GetBytes(rawName), out string name);
        _intern.TryIntern(Encoding.UTF8.GetBytes(rawUnit), out string unit);
        MetricKind? hint = null;
        foreach (JsonElement kv in OtlpJson.Array(metric, "metadata", "metadata"))
        {
            if (OtlpJson.TryKeyValue(kv, out string key, out string? value) && key == MetricKindRules.KindMetadataKey && value is not null &&
                MetricKindRules.TryParseKindName(Encoding.UTF8.GetBytes(value), out MetricKind k))
            {
                hint = k;
            }
        }

        var info = new MetricInfo { Service = service, Name = name, Unit = unit, KindHint = hint };
        int kind;
        JsonElement data;
        if (OtlpJson.TryGet(metric, "gauge", "gauge", out data))
        {
            kind = OtlpFields.MetricGauge;
        }
        else if (OtlpJson.TryGet(metric, "sum", "sum", out data))
        {
            kind = OtlpFields.MetricSum;
        }
        else if (OtlpJson.TryGet(metric, "histogram", "histogram", out data))
        {
            kind = OtlpFields.MetricHistogram;
        }
        else if (OtlpJson.TryGet(metric, "exponentialHistogram", "exponential_histogram", out data))
        {
            kind = OtlpFields.MetricExponentialHistogram;
        }
        else
        {
            return; // summary or no data
        }

        long temporality = 0;
        if (kind != OtlpFields.MetricGauge &&
            (!OtlpJson.TryGet(data, "aggregationTemporality", "aggregation_temporality", out JsonElement tEl) || !OtlpJson.TryEnum(tEl, OtlpJson.TemporalityNames, out temporality) || temporality is not (1 or 2)))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"{path}: metric '{name}' of service '{service}': aggregationTemporality is missing or not DELTA (1) / CUMULATIVE (2)"));
            return;
        }

        bool monotonic = OtlpJson.TryGet(data, "isMonotonic", "is_monotonic", out JsonElement monoEl) && monoEl.ValueKind == JsonValueKind.True;
        int pi = 0;
        foreach (JsonElement point in OtlpJson.Array(data, "dataPoints", "data_points"))
        {
            DecodeJsonPoint(point, info, kind, (Temporality)temporality, monotonic, $"{path}.dataPoints[{pi}]", batch);
            pi++;
        }
    }

    private DecodeError? JsonLabels(JsonElement point, in MetricInfo info, string path, ref double total)
    {
        _labels.Reset();
        foreach (JsonElement kv in OtlpJson.Array(point, "attributes", "attributes"))
        {
            if (!OtlpJson.TryKeyValue(kv, out string key, out string? value))
            {
                return new DecodeError(DecodeErrorKind.InvalidValue, $"{path}: an attribute has no key");
            }

            if (key == MetricKindRules.TotalAttributeKey)
            {
                double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out total);
                continue;
            }

            value ??= "";
            if (_labels.Count >= _options.MaxLabelsPerPoint)
            {
                return new DecodeError(DecodeErrorKind.LabelLimitExceeded, $"{path}: metric '{info.Name}' of service '{info.Service}': data point has more than {_options.MaxLabelsPerPoint} attributes");
            }

            byte[] v = Encoding.UTF8.GetBytes(value);
            if (v.Length > _options.MaxLabelValueLength)
            {
                return new DecodeError(DecodeErrorKind.LabelLimitExceeded, $"{path}: metric '{info.Name}' of service '{info.Service}': attribute '{key}' value has {v.Length} bytes, limit {_options.MaxLabelValueLength}");
            }

            _labels.Add(Encoding.UTF8.GetBytes(key), v);
        }

        return null;
    }

    private void JsonExemplars(JsonElement point)
    {
        _mapper.ExemplarCount = 0;
        foreach (JsonElement e in OtlpJson.Array(point, "exemplars", "exemplars"))
        {
            var x = default(ExemplarData);
            if (OtlpJson.TryGet(e, "timeUnixNano", "time_unix_nano", out JsonElement t))
            {
                OtlpJson.TryInt64(t, out x.TimeNanos);
            }

            if (OtlpJson.TryGet(e, "asDouble", "as_double", out JsonElement d))
            {
                OtlpJson.TryDouble(d, out x.Value);
            }
            else if (OtlpJson.TryGet(e, "asInt", "as_int", out JsonElement i) && OtlpJson.TryInt64(i, out long l))
            {
                x.Value = l;
            }

            if (OtlpJson.TryGet(e, "traceId", "trace_id", out JsonElement tr))
            {
                OtlpJson.TryHexTraceId(tr, out x.TraceId);
            }

            if (OtlpJson.TryGet(e, "spanId", "span_id", out JsonElement sp))
            {
                OtlpJson.TryHexSpanId(sp, out x.SpanId);
            }

            if (double.IsFinite(x.Value))
            {
                _mapper.AddExemplar(x);
            }
        }
    }

    private static long JsonTime(JsonElement point, string camel, string snake) =>
        OtlpJson.TryGet(point, camel, snake, out JsonElement e) && OtlpJson.TryInt64(e, out long v) ? v : 0;

    private void DecodeJsonPoint(JsonElement point, in MetricInfo info, int kind, Temporality t, bool monotonic, string path, DecodeBatch batch)
    {
        double total = 0;
        DecodeError? error = JsonLabels(point, info, path, ref total);
        if (error is { } e)
        {
            batch.Errors.Add(e);
            return;
        }

        if (OtlpJson.TryGet(point, "flags", "flags", out JsonElement flagsEl) && OtlpJson.TryInt64(flagsEl, out long flags) && (flags & OtlpFields.FlagNoRecordedValue) != 0)
        {
            return;
        }

        if (!_intern.TryIntern(_labels.Build(), out string labels))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidUtf8, $"{path}: attributes are not valid UTF-8"));
            return;
        }

        JsonExemplars(point);
        long start = JsonTime(point, "startTimeUnixNano", "start_time_unix_nano");
        long time = JsonTime(point, "timeUnixNano", "time_unix_nano");
        if (kind is OtlpFields.MetricGauge or OtlpFields.MetricSum)
        {
            double value;
            if (OtlpJson.TryGet(point, "asDouble", "as_double", out JsonElement d))
            {
                if (!OtlpJson.TryDouble(d, out value))
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"{path}: asDouble is not a number"));
                    _mapper.ExemplarCount = 0;
                    return;
                }
            }
            else if (OtlpJson.TryGet(point, "asInt", "as_int", out JsonElement i) && OtlpJson.TryInt64(i, out long l))
            {
                value = l;
            }
            else
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.MissingField, $"{path}: metric '{info.Name}' data point has neither asDouble nor asInt"));
                _mapper.ExemplarCount = 0;
                return;
            }

            if (kind == OtlpFields.MetricSum)
            {
                _mapper.Sum(info, labels, start, time, value, monotonic, t, batch, -1);
            }
            else
            {
                _mapper.Gauge(info, labels, time, value, total, batch, -1);
            }

            return;
        }

        HistogramData h = _histogram;
        h.Reset();
        h.StartNanos = start;
        h.TimeNanos = time;
        if (OtlpJson.TryGet(point, "count", "count", out JsonElement c))
        {
            OtlpJson.TryUInt64(c, out h.Count);
        }

        if (OtlpJson.TryGet(point, "sum", "sum", out JsonElement s))
        {
            OtlpJson.TryDouble(s, out h.Sum);
        }

        if (OtlpJson.TryGet(point, "min", "min", out JsonElement mn) && OtlpJson.TryDouble(mn, out double min))
        {
            h.Min = double.IsNaN(min) ? double.PositiveInfinity : min;
        }

        if (OtlpJson.TryGet(point, "max", "max", out JsonElement mx) && OtlpJson.TryDouble(mx, out double max))
        {
            h.Max = double.IsNaN(max) ? double.PositiveInfinity : max;
        }

        bool ok = true;
        bool exponential = kind == OtlpFields.MetricExponentialHistogram;
        if (!exponential)
        {
            foreach (JsonElement b in OtlpJson.Array(point, "explicitBounds", "explicit_bounds"))
            {
                ok &= OtlpJson.TryDouble(b, out double bound) && h.AddBound(bound);
            }

            foreach (JsonElement b in OtlpJson.Array(point, "bucketCounts", "bucket_counts"))
            {
                ok &= OtlpJson.TryUInt64(b, out ulong count) && h.AddCount(count);
            }
        }
        else
        {
            if (OtlpJson.TryGet(point, "scale", "scale", out JsonElement sc) && OtlpJson.TryInt64(sc, out long scale))
            {
                if (scale is < -10 or > 20)
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"{path}: scale {scale} is outside [-10, 20]"));
                    _mapper.ExemplarCount = 0;
                    return;
                }

                h.Scale = (int)scale;
            }

            if (OtlpJson.TryGet(point, "zeroCount", "zero_count", out JsonElement z))
            {
                OtlpJson.TryUInt64(z, out h.ZeroCount);
            }

            ok &= JsonBuckets(point, "positive", h, positive: true) && JsonBuckets(point, "negative", h, positive: false);
        }

        if (!ok)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidValue, $"{path}: histogram buckets are malformed or exceed {HistogramData.MaxBuckets}"));
            _mapper.ExemplarCount = 0;
            return;
        }

        _mapper.Histogram(info, labels, h, t, exponential, batch, -1);
    }

    private static bool JsonBuckets(JsonElement point, string name, HistogramData h, bool positive)
    {
        if (!OtlpJson.TryGet(point, name, name, out JsonElement buckets))
        {
            return true;
        }

        if (OtlpJson.TryGet(buckets, "offset", "offset", out JsonElement o) && OtlpJson.TryInt64(o, out long offset))
        {
            if (positive)
            {
                h.PositiveOffset = (int)offset;
            }
            else
            {
                h.NegativeOffset = (int)offset;
            }
        }

        bool ok = true;
        foreach (JsonElement b in OtlpJson.Array(buckets, "bucketCounts", "bucket_counts"))
        {
            ok &= OtlpJson.TryUInt64(b, out ulong count) && (positive ? h.AddPositive(count) : h.AddNegative(count));
        }

        return ok;
    }
}

/// <summary>OTLP/JSON decoding of <c>ExportTraceServiceRequest</c>.</summary>
public sealed partial class OtlpTraceDecoder
{
    /// <summary>Decodes one OTLP/JSON <c>ExportTraceServiceRequest</c> into <paramref name="batch"/>.</summary>
    public void DecodeJson(ReadOnlySpan<byte> payload, DecodeBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        DecodeError? parseError = OtlpJson.Parse(payload, _options, out JsonDocument? document);
        if (parseError is { } pe)
        {
            batch.Errors.Add(pe);
            return;
        }

        using (document)
        {
            int ri = 0;
            foreach (JsonElement rs in OtlpJson.Array(document!.RootElement, "resourceSpans", "resource_spans"))
            {
                OtlpJson.ReadResource(rs, out string service, out string? instance, out string? version);
                int si = 0;
                foreach (JsonElement ss in OtlpJson.Array(rs, "scopeSpans", "scope_spans"))
                {
                    int i = 0;
                    foreach (JsonElement span in OtlpJson.Array(ss, "spans", "spans"))
                    {
                        DecodeJsonSpan(span, service, instance, version, $"resourceSpans[{ri}].scopeSpans[{si}].spans[{i}]", batch);
                        i++;
                    }

                    si++;
                }

                ri++;
            }
        }
    }

    private void DecodeJsonSpan(JsonElement span, string service, string? instance, string? version, string path, DecodeBatch batch)
    {
        if (!OtlpJson.TryGet(span, "traceId", "trace_id", out JsonElement t) || !OtlpJson.TryHexTraceId(t, out UInt128 traceId) ||
            !OtlpJson.TryGet(span, "spanId", "span_id", out JsonElement s) || !OtlpJson.TryHexSpanId(s, out ulong spanId) || traceId == 0 || spanId == 0)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidId, $"{path}: span of service '{service}' needs traceId (32 hex digits) and spanId (16 hex digits), non-zero"));
            return;
        }

        ulong parent = 0;
        if (OtlpJson.TryGet(span, "parentSpanId", "parent_span_id", out JsonElement p) && !OtlpJson.TryHexSpanId(p, out parent))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.InvalidId, $"{path}: parentSpanId must be 16 hex digits or empty"));
            return;
        }

        long kind = 0;
        if (OtlpJson.TryGet(span, "kind", "kind", out JsonElement k) && (!OtlpJson.TryEnum(k, OtlpJson.SpanKindNames, out kind) || kind is < 0 or > 5))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"{path}: kind {k.GetRawText()} is not a SpanKind (0..5)"));
            return;
        }

        long status = 0;
        if (OtlpJson.TryGet(span, "status", "status", out JsonElement st) && OtlpJson.TryGet(st, "code", "code", out JsonElement code) &&
            (!OtlpJson.TryEnum(code, OtlpJson.StatusNames, out status) || status is < 0 or > 2))
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.UnknownEnumValue, $"{path}: status code {code.GetRawText()} is not a StatusCode (0..2)"));
            return;
        }

        long start = OtlpJson.TryGet(span, "startTimeUnixNano", "start_time_unix_nano", out JsonElement se) && OtlpJson.TryInt64(se, out long sv) ? sv : 0;
        long end = OtlpJson.TryGet(span, "endTimeUnixNano", "end_time_unix_nano", out JsonElement ee) && OtlpJson.TryInt64(ee, out long ev) ? ev : 0;
        if (start <= 0 || end < start)
        {
            batch.Errors.Add(new DecodeError(start <= 0 ? DecodeErrorKind.MissingField : DecodeErrorKind.InvalidValue, $"{path}: startTimeUnixNano {start} / endTimeUnixNano {end} are missing or reversed"));
            return;
        }

        string? tsError = _timestamps.Check(start / 1_000_000);
        if (tsError is not null)
        {
            batch.Errors.Add(new DecodeError(DecodeErrorKind.TimestampOutOfRange, $"{path}: {tsError}"));
            return;
        }

        string? peer = null, server = null, netPeer = null, db = null, messaging = null;
        var attributes = new List<SpanAttribute>();
        foreach (JsonElement kv in OtlpJson.Array(span, "attributes", "attributes"))
        {
            if (!OtlpJson.TryKeyValue(kv, out string key, out string? value) || value is null)
            {
                continue;
            }

            switch (key)
            {
                case SpanAttributeNames.PeerService: peer = value; break;
                case SpanAttributeNames.ServerAddress: server = value; break;
                case SpanAttributeNames.NetPeerName: netPeer = value; break;
                case SpanAttributeNames.DbSystem: db = value; break;
                case SpanAttributeNames.MessagingSystem: messaging = value; break;
                default: attributes.Add(new SpanAttribute(key, value)); break;
            }
        }

        string name = OtlpJson.TryGet(span, "name", "name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
        batch.Spans.Add(new SpanRecord
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parent,
            Service = service,
            ServiceInstance = instance,
            ServiceVersion = version,
            Name = name,
            Kind = (SpanKind)kind,
            StartUnixNanos = start,
            EndUnixNanos = end,
            Status = (SpanStatus)status,
            PeerService = peer,
            ServerAddress = server ?? netPeer,
            DbSystem = db,
            MessagingSystem = messaging,
            Attributes = attributes.Count == 0 ? [] : attributes.ToArray(),
        });
    }
}
