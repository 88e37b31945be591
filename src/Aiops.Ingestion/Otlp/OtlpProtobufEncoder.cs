using System.Buffers.Binary;
using Aiops.Core;
using Google.Protobuf;

namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Writes OTLP <c>ExportMetricsServiceRequest</c> and <c>ExportTraceServiceRequest</c> protobuf
/// with Google.Protobuf's <see cref="CodedOutputStream"/>: sizes are computed first (the wire
/// format prefixes every sub-message with its length), then the message is written once into an
/// exact-size array. The simulator and integration tests produce OTLP with it; any OTLP receiver
/// can read its output.
/// </summary>
public static class OtlpProtobufEncoder
{
    private const WireFormat.WireType Len = WireFormat.WireType.LengthDelimited;
    private const WireFormat.WireType I64 = WireFormat.WireType.Fixed64;
    private const WireFormat.WireType Varint = WireFormat.WireType.Varint;

    /// <summary>Encodes an <c>ExportMetricsServiceRequest</c>.</summary>
    public static byte[] EncodeMetrics(IReadOnlyList<OtlpResourceMetrics> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        int size = 0;
        foreach (OtlpResourceMetrics rm in resources)
        {
            size += Field(OtlpFields.RequestResourceEntries, ResourceMetricsSize(rm));
        }

        byte[] buffer = new byte[size];
        var output = new CodedOutputStream(buffer);
        foreach (OtlpResourceMetrics rm in resources)
        {
            output.WriteTag(OtlpFields.RequestResourceEntries, Len);
            output.WriteLength(ResourceMetricsSize(rm));
            WriteResourceMetrics(output, rm);
        }

        output.CheckNoSpaceLeft();
        return buffer;
    }

    /// <summary>
    /// Encodes metric points as OTLP gauges: one resource per service, one gauge per (metric name,
    /// kind), labels as data-point attributes, the kind as metadata <c>aiops.kind</c>, the
    /// <see cref="MetricPoint.Total"/> as attribute <c>aiops.total</c> when non-zero. Our decoder turns
    /// the result back into equal points.
    /// </summary>
    public static byte[] EncodeMetricPoints(IReadOnlyList<MetricPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var services = new Dictionary<string, Dictionary<(string, MetricKind), List<OtlpDataPoint>>>();
        var order = new List<string>();
        foreach (MetricPoint p in points)
        {
            if (!services.TryGetValue(p.Series.Service, out var metrics))
            {
                metrics = new Dictionary<(string, MetricKind), List<OtlpDataPoint>>();
                services[p.Series.Service] = metrics;
                order.Add(p.Series.Service);
            }

            if (!metrics.TryGetValue((p.Series.Metric, p.Kind), out var list))
            {
                list = new List<OtlpDataPoint>();
                metrics[(p.Series.Metric, p.Kind)] = list;
            }

            list.Add(new OtlpDataPoint
            {
                Attributes = SplitLabels(p.Series.Labels),
                TimeUnixNano = checked(p.TimestampMs * 1_000_000),
                Value = p.Value,
                Total = p.Total,
            });
        }

        var resources = new List<OtlpResourceMetrics>(order.Count);
        foreach (string service in order)
        {
            var metrics = new List<OtlpMetric>();
            foreach (var ((name, kind), list) in services[service])
            {
                metrics.Add(new OtlpMetric { Name = name, Kind = kind, Unit = kind == MetricKind.Latency ? "ms" : "", Type = OtlpMetricType.Gauge, Points = list });
            }

            resources.Add(new OtlpResourceMetrics { ServiceName = service, Metrics = metrics });
        }

        return EncodeMetrics(resources);
    }

    /// <summary>Encodes spans as an <c>ExportTraceServiceRequest</c>, one resource per (service, instance, version).</summary>
    public static byte[] EncodeSpans(IReadOnlyList<SpanRecord> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        var groups = new Dictionary<(string, string?, string?), List<SpanRecord>>();
        var order = new List<(string, string?, string?)>();
        foreach (SpanRecord s in spans)
        {
            var key = (s.Service, s.ServiceInstance, s.ServiceVersion);
            if (!groups.TryGetValue(key, out var list))
            {
                list = new List<SpanRecord>();
                groups[key] = list;
                order.Add(key);
            }

            list.Add(s);
        }

        int size = 0;
        foreach (var key in order)
        {
            size += Field(OtlpFields.RequestResourceEntries, ResourceSpansSize(key, groups[key]));
        }

        byte[] buffer = new byte[size];
        var output = new CodedOutputStream(buffer);
        foreach (var key in order)
        {
            List<SpanRecord> list = groups[key];
            output.WriteTag(OtlpFields.RequestResourceEntries, Len);
            output.WriteLength(ResourceSpansSize(key, list));

            output.WriteTag(OtlpFields.ResourceEntryResource, Len);
            output.WriteLength(ResourceSize(key.Item1, key.Item2, key.Item3, []));
            WriteResource(output, key.Item1, key.Item2, key.Item3, []);

            output.WriteTag(OtlpFields.ResourceEntryScopes, Len);
            output.WriteLength(ScopeSpansSize(list));
            foreach (SpanRecord s in list)
            {
                output.WriteTag(OtlpFields.ScopeEntryItems, Len);
                output.WriteLength(SpanSize(s));
                WriteSpan(output, s);
            }
        }

        output.CheckNoSpaceLeft();
        return buffer;
    }

    internal static IReadOnlyList<KeyValuePair<string, string>> SplitLabels(string labels)
    {
        if (string.IsNullOrEmpty(labels))
        {
            return [];
        }

        var result = new List<KeyValuePair<string, string>>();
        foreach (string pair in labels.Split(','))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            result.Add(eq < 0 ? new(pair, "") : new(pair[..eq], pair[(eq + 1)..]));
        }

        return result;
    }

    private static int Field(int field, int length) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(length) + length;

    private static int StringField(int field, string value) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeStringSize(value);

    private static int Fixed64Field(int field) => CodedOutputStream.ComputeTagSize(field) + 8;

    // ----- common -----

    private static int AnyStringSize(string value) => StringField(OtlpFields.AnyString, value);

    private static int KeyValueSize(string key, string value) =>
        StringField(OtlpFields.KeyValueKey, key) + Field(OtlpFields.KeyValueValue, AnyStringSize(value));

    private static int KeyValueDoubleSize(string key) =>
        StringField(OtlpFields.KeyValueKey, key) + Field(OtlpFields.KeyValueValue, Fixed64Field(OtlpFields.AnyDouble));

    private static void WriteKeyValue(CodedOutputStream o, int field, string key, string value)
    {
        o.WriteTag(field, Len);
        o.WriteLength(KeyValueSize(key, value));
        o.WriteTag(OtlpFields.KeyValueKey, Len);
        o.WriteString(key);
        o.WriteTag(OtlpFields.KeyValueValue, Len);
        o.WriteLength(AnyStringSize(value));
        o.WriteTag(OtlpFields.AnyString, Len);
        o.WriteString(value);
    }

    private static void WriteKeyValueDouble(CodedOutputStream o, int field, string key, double value)
    {
        o.WriteTag(field, Len);
        o.WriteLength(KeyValueDoubleSize(key));
        o.WriteTag(OtlpFields.KeyValueKey, Len);
        o.WriteString(key);
        o.WriteTag(OtlpFields.KeyValueValue, Len);
        o.WriteLength(Fixed64Field(OtlpFields.AnyDouble));
        o.WriteTag(OtlpFields.AnyDouble, I64);
        o.WriteDouble(value);
    }

    private static int ResourceSize(string service, string? instance, string? version, IReadOnlyList<KeyValuePair<string, string>> extra)
    {
        int size = Field(OtlpFields.ResourceAttributes, KeyValueSize("service.name", service));
        if (instance is not null)
        {
            size += Field(OtlpFields.ResourceAttributes, KeyValueSize("service.instance.id", instance));
        }

        if (version is not null)
        {
            size += Field(OtlpFields.ResourceAttributes, KeyValueSize("service.version", version));
        }

        foreach (var kv in extra)
        {
            size += Field(OtlpFields.ResourceAttributes, KeyValueSize(kv.Key, kv.Value));
        }

        return size;
    }

    private static void WriteResource(CodedOutputStream o, string service, string? instance, string? version, IReadOnlyList<KeyValuePair<string, string>> extra)
    {
        WriteKeyValue(o, OtlpFields.ResourceAttributes, "service.name", service);
        if (instance is not null)
        {
            WriteKeyValue(o, OtlpFields.ResourceAttributes, "service.instance.id", instance);
        }

        if (version is not null)
        {
            WriteKeyValue(o, OtlpFields.ResourceAttributes, "service.version", version);
        }

        foreach (var kv in extra)
        {
            WriteKeyValue(o, OtlpFields.ResourceAttributes, kv.Key, kv.Value);
        }
    }

    private static void WriteId(CodedOutputStream o, int field, ulong hi, ulong lo, bool sixteen)
    {
        // Ids are big-endian bytes; WriteFixed64 writes little-endian, so reverse the words.
        o.WriteTag(field, Len);
        o.WriteLength(sixteen ? 16 : 8);
        if (sixteen)
        {
            o.WriteFixed64(BinaryPrimitives.ReverseEndianness(hi));
        }

        o.WriteFixed64(BinaryPrimitives.ReverseEndianness(lo));
    }

    // ----- metrics -----

    private static int ResourceMetricsSize(OtlpResourceMetrics rm) =>
        Field(OtlpFields.ResourceEntryResource, ResourceSize(rm.ServiceName, null, null, rm.ResourceAttributes)) +
        Field(OtlpFields.ResourceEntryScopes, ScopeMetricsSize(rm));

    private static int ScopeMetricsSize(OtlpResourceMetrics rm)
    {
        int size = 0;
        foreach (OtlpMetric m in rm.Metrics)
        {
            size += Field(OtlpFields.ScopeEntryItems, MetricSize(m));
        }

        return size;
    }

    private static void WriteResourceMetrics(CodedOutputStream o, OtlpResourceMetrics rm)
    {
        o.WriteTag(OtlpFields.ResourceEntryResource, Len);
        o.WriteLength(ResourceSize(rm.ServiceName, null, null, rm.ResourceAttributes));
        WriteResource(o, rm.ServiceName, null, null, rm.ResourceAttributes);
        o.WriteTag(OtlpFields.ResourceEntryScopes, Len);
        o.WriteLength(ScopeMetricsSize(rm));
        foreach (OtlpMetric m in rm.Metrics)
        {
            o.WriteTag(OtlpFields.ScopeEntryItems, Len);
            o.WriteLength(MetricSize(m));
            WriteMetric(o, m);
        }
    }

    private static int DataField(OtlpMetric m) => m.Type switch
    {
        OtlpMetricType.Gauge => OtlpFields.MetricGauge,
        OtlpMetricType.Sum => OtlpFields.MetricSum,
        OtlpMetricType.Histogram => OtlpFields.MetricHistogram,
        _ => OtlpFields.MetricExponentialHistogram,
    };

    private static int MetricSize(OtlpMetric m)
    {
        int size = StringField(OtlpFields.MetricName, m.Name);
        if (m.Unit.Length > 0)
        {
            size += StringField(OtlpFields.MetricUnit, m.Unit);
        }

        size += Field(DataField(m), DataSize(m));
        if (m.Kind is { } kind)
        {
            size += Field(OtlpFields.MetricMetadata, KeyValueSize(MetricKindRules.KindMetadataKey, JsonLines.JsonLineNames.KindName(kind)));
        }

        return size;
    }

    private static void WriteMetric(CodedOutputStream o, OtlpMetric m)
    {
        o.WriteTag(OtlpFields.MetricName, Len);
        o.WriteString(m.Name);
        if (m.Unit.Length > 0)
        {
            o.WriteTag(OtlpFields.MetricUnit, Len);
            o.WriteString(m.Unit);
        }

        o.WriteTag(DataField(m), Len);
        o.WriteLength(DataSize(m));
        foreach (OtlpDataPoint p in m.Points)
        {
            o.WriteTag(OtlpFields.DataPoints, Len);
            o.WriteLength(PointSize(m.Type, p));
            WritePoint(o, m.Type, p);
        }

        if (m.Type != OtlpMetricType.Gauge)
        {
            o.WriteTag(OtlpFields.AggregationTemporality, Varint);
            o.WriteEnum((int)m.Temporality);
        }

        if (m.Type == OtlpMetricType.Sum && m.IsMonotonic)
        {
            o.WriteTag(OtlpFields.IsMonotonic, Varint);
            o.WriteBool(true);
        }

        if (m.Kind is { } kind)
        {
            WriteKeyValue(o, OtlpFields.MetricMetadata, MetricKindRules.KindMetadataKey, JsonLines.JsonLineNames.KindName(kind));
        }
    }

    private static int DataSize(OtlpMetric m)
    {
        int size = 0;
        foreach (OtlpDataPoint p in m.Points)
        {
            size += Field(OtlpFields.DataPoints, PointSize(m.Type, p));
        }

        if (m.Type != OtlpMetricType.Gauge)
        {
            size += CodedOutputStream.ComputeTagSize(OtlpFields.AggregationTemporality) + CodedOutputStream.ComputeEnumSize((int)m.Temporality);
        }

        if (m.Type == OtlpMetricType.Sum && m.IsMonotonic)
        {
            size += CodedOutputStream.ComputeTagSize(OtlpFields.IsMonotonic) + 1;
        }

        return size;
    }

    private static int AttributesField(OtlpMetricType type) => type switch
    {
        OtlpMetricType.Histogram => OtlpFields.HistogramAttributes,
        OtlpMetricType.ExponentialHistogram => OtlpFields.ExpAttributes,
        _ => OtlpFields.NumberAttributes,
    };

    private static int ExemplarsField(OtlpMetricType type) => type switch
    {
        OtlpMetricType.Histogram => OtlpFields.HistogramExemplars,
        OtlpMetricType.ExponentialHistogram => OtlpFields.ExpExemplars,
        _ => OtlpFields.NumberExemplars,
    };

    private static int ExemplarSize(in OtlpExemplar e) =>
        Fixed64Field(OtlpFields.ExemplarTime) + Fixed64Field(OtlpFields.ExemplarAsDouble) +
        Field(OtlpFields.ExemplarSpanId, 8) + Field(OtlpFields.ExemplarTraceId, 16);

    private static int PackedVarintSize(IReadOnlyList<ulong> values)
    {
        int size = 0;
        foreach (ulong v in values)
        {
            size += CodedOutputStream.ComputeUInt64Size(v);
        }

        return size;
    }

    private static int BucketsSize(int offset, IReadOnlyList<ulong> counts) =>
        CodedOutputStream.ComputeTagSize(OtlpFields.BucketsOffset) + CodedOutputStream.ComputeSInt32Size(offset) +
        (counts.Count > 0 ? Field(OtlpFields.BucketsCounts, PackedVarintSize(counts)) : 0);

    private static int PointSize(OtlpMetricType type, OtlpDataPoint p)
    {
        int size = Fixed64Field(OtlpFields.PointTime);
        if (p.StartTimeUnixNano != 0)
        {
            size += Fixed64Field(OtlpFields.PointStartTime);
        }

        int attributesField = AttributesField(type);
        foreach (var kv in p.Attributes)
        {
            size += Field(attributesField, KeyValueSize(kv.Key, kv.Value));
        }

        if (p.Total != 0)
        {
            size += Field(attributesField, KeyValueDoubleSize(MetricKindRules.TotalAttributeKey));
        }

        int exemplarsField = ExemplarsField(type);
        foreach (OtlpExemplar e in p.Exemplars)
        {
            size += Field(exemplarsField, ExemplarSize(e));
        }

        switch (type)
        {
            case OtlpMetricType.Gauge:
            case OtlpMetricType.Sum:
                size += Fixed64Field(OtlpFields.NumberAsDouble);
                break;
            case OtlpMetricType.Histogram:
                size += Fixed64Field(OtlpFields.HistogramCount) + Fixed64Field(OtlpFields.HistogramSum);
                if (p.BucketCounts.Count > 0)
                {
                    size += Field(OtlpFields.HistogramBucketCounts, 8 * p.BucketCounts.Count);
                }

                if (p.ExplicitBounds.Count > 0)
                {
                    size += Field(OtlpFields.HistogramExplicitBounds, 8 * p.ExplicitBounds.Count);
                }

                size += (p.Min.HasValue ? Fixed64Field(OtlpFields.HistogramMin) : 0) + (p.Max.HasValue ? Fixed64Field(OtlpFields.HistogramMax) : 0);
                break;
            default:
                size += Fixed64Field(OtlpFields.ExpCount) + Fixed64Field(OtlpFields.ExpSum) + Fixed64Field(OtlpFields.ExpZeroCount);
                size += CodedOutputStream.ComputeTagSize(OtlpFields.ExpScale) + CodedOutputStream.ComputeSInt32Size(p.Scale);
                size += Field(OtlpFields.ExpPositive, BucketsSize(p.PositiveOffset, p.PositiveBucketCounts));
                size += Field(OtlpFields.ExpNegative, BucketsSize(p.NegativeOffset, p.NegativeBucketCounts));
                size += (p.Min.HasValue ? Fixed64Field(OtlpFields.ExpMin) : 0) + (p.Max.HasValue ? Fixed64Field(OtlpFields.ExpMax) : 0);
                break;
        }

        return size;
    }

    private static void WriteFixed64Field(CodedOutputStream o, int field, ulong value)
    {
        o.WriteTag(field, I64);
        o.WriteFixed64(value);
    }

    private static void WriteDoubleField(CodedOutputStream o, int field, double value)
    {
        o.WriteTag(field, I64);
        o.WriteDouble(value);
    }

    private static void WriteBuckets(CodedOutputStream o, int field, int offset, IReadOnlyList<ulong> counts)
    {
        o.WriteTag(field, Len);
        o.WriteLength(BucketsSize(offset, counts));
        o.WriteTag(OtlpFields.BucketsOffset, Varint);
        o.WriteSInt32(offset);
        if (counts.Count > 0)
        {
            o.WriteTag(OtlpFields.BucketsCounts, Len);
            o.WriteLength(PackedVarintSize(counts));
            foreach (ulong c in counts)
            {
                o.WriteUInt64(c);
            }
        }
    }

    private static void WritePoint(CodedOutputStream o, OtlpMetricType type, OtlpDataPoint p)
    {
        int attributesField = AttributesField(type);
        foreach (var kv in p.Attributes)
        {
            WriteKeyValue(o, attributesField, kv.Key, kv.Value);
        }

        if (p.Total != 0)
        {
            WriteKeyValueDouble(o, attributesField, MetricKindRules.TotalAttributeKey, p.Total);
        }

        if (p.StartTimeUnixNano != 0)
        {
            WriteFixed64Field(o, OtlpFields.PointStartTime, (ulong)p.StartTimeUnixNano);
        }

        WriteFixed64Field(o, OtlpFields.PointTime, (ulong)p.TimeUnixNano);
        switch (type)
        {
            case OtlpMetricType.Gauge:
            case OtlpMetricType.Sum:
                WriteDoubleField(o, OtlpFields.NumberAsDouble, p.Value);
                break;
            case OtlpMetricType.Histogram:
                WriteFixed64Field(o, OtlpFields.HistogramCount, p.Count);
                WriteDoubleField(o, OtlpFields.HistogramSum, p.Sum);
                if (p.BucketCounts.Count > 0)
                {
                    o.WriteTag(OtlpFields.HistogramBucketCounts, Len);
                    o.WriteLength(8 * p.BucketCounts.Count);
                    foreach (ulong c in p.BucketCounts)
                    {
                        o.WriteFixed64(c);
                    }
                }

                if (p.ExplicitBounds.Count > 0)
                {
                    o.WriteTag(OtlpFields.HistogramExplicitBounds, Len);
                    o.WriteLength(8 * p.ExplicitBounds.Count);
                    foreach (double b in p.ExplicitBounds)
                    {
                        o.WriteDouble(b);
                    }
                }

                if (p.Min is { } min)
                {
                    WriteDoubleField(o, OtlpFields.HistogramMin, min);
                }

                if (p.Max is { } max)
                {
                    WriteDoubleField(o, OtlpFields.HistogramMax, max);
                }

                break;
            default:
                WriteFixed64Field(o, OtlpFields.ExpCount, p.Count);
                WriteDoubleField(o, OtlpFields.ExpSum, p.Sum);
                o.WriteTag(OtlpFields.ExpScale, Varint);
                o.WriteSInt32(p.Scale);
                WriteFixed64Field(o, OtlpFields.ExpZeroCount, p.ZeroCount);
                WriteBuckets(o, OtlpFields.ExpPositive, p.PositiveOffset, p.PositiveBucketCounts);
                WriteBuckets(o, OtlpFields.ExpNegative, p.NegativeOffset, p.NegativeBucketCounts);
                if (p.Min is { } emin)
                {
                    WriteDoubleField(o, OtlpFields.ExpMin, emin);
                }

                if (p.Max is { } emax)
                {
                    WriteDoubleField(o, OtlpFields.ExpMax, emax);
                }

                break;
        }

        int exemplarsField = ExemplarsField(type);
        foreach (OtlpExemplar e in p.Exemplars)
        {
            o.WriteTag(exemplarsField, Len);
            o.WriteLength(ExemplarSize(e));
            WriteFixed64Field(o, OtlpFields.ExemplarTime, (ulong)e.TimeUnixNano);
            WriteDoubleField(o, OtlpFields.ExemplarAsDouble, e.Value);
            WriteId(o, OtlpFields.ExemplarSpanId, 0, e.SpanId, sixteen: false);
            WriteId(o, OtlpFields.ExemplarTraceId, (ulong)(e.TraceId >> 64), (ulong)e.TraceId, sixteen: true);
        }
    }

    // ----- spans -----

    private static int ResourceSpansSize((string Service, string? Instance, string? Version) key, List<SpanRecord> spans) =>
        Field(OtlpFields.ResourceEntryResource, ResourceSize(key.Service, key.Instance, key.Version, [])) +
        Field(OtlpFields.ResourceEntryScopes, ScopeSpansSize(spans));

    private static int ScopeSpansSize(List<SpanRecord> spans)
    {
        int size = 0;
        foreach (SpanRecord s in spans)
        {
            size += Field(OtlpFields.ScopeEntryItems, SpanSize(s));
        }

        return size;
    }

    private static IEnumerable<KeyValuePair<string, string>> AllAttributes(SpanRecord s)
    {
        if (s.PeerService is not null)
        {
            yield return new(SpanAttributeNames.PeerService, s.PeerService);
        }

        if (s.ServerAddress is not null)
        {
            yield return new(SpanAttributeNames.ServerAddress, s.ServerAddress);
        }

        if (s.DbSystem is not null)
        {
            yield return new(SpanAttributeNames.DbSystem, s.DbSystem);
        }

        if (s.MessagingSystem is not null)
        {
            yield return new(SpanAttributeNames.MessagingSystem, s.MessagingSystem);
        }

        foreach (SpanAttribute a in s.Attributes)
        {
            yield return new(a.Key, a.Value);
        }
    }

    private static int StatusSize(SpanStatus status) =>
        status == SpanStatus.Unset ? 0 : CodedOutputStream.ComputeTagSize(OtlpFields.StatusCode) + CodedOutputStream.ComputeEnumSize((int)status);

    private static int SpanSize(SpanRecord s)
    {
        int size = Field(OtlpFields.SpanTraceId, 16) + Field(OtlpFields.SpanSpanId, 8);
        if (s.ParentSpanId != 0)
        {
            size += Field(OtlpFields.SpanParentSpanId, 8);
        }

        size += StringField(OtlpFields.SpanName, s.Name);
        if (s.Kind != SpanKind.Unspecified)
        {
            size += CodedOutputStream.ComputeTagSize(OtlpFields.SpanKind) + CodedOutputStream.ComputeEnumSize((int)s.Kind);
        }

        size += Fixed64Field(OtlpFields.SpanStart) + Fixed64Field(OtlpFields.SpanEnd);
        foreach (var kv in AllAttributes(s))
        {
            size += Field(OtlpFields.SpanAttributes, KeyValueSize(kv.Key, kv.Value));
        }

        if (s.Status != SpanStatus.Unset)
        {
            size += Field(OtlpFields.SpanStatus, StatusSize(s.Status));
        }

        return size;
    }

    private static void WriteSpan(CodedOutputStream o, SpanRecord s)
    {
        WriteId(o, OtlpFields.SpanTraceId, (ulong)(s.TraceId >> 64), (ulong)s.TraceId, sixteen: true);
        WriteId(o, OtlpFields.SpanSpanId, 0, s.SpanId, sixteen: false);
        if (s.ParentSpanId != 0)
        {
            WriteId(o, OtlpFields.SpanParentSpanId, 0, s.ParentSpanId, sixteen: false);
        }

        o.WriteTag(OtlpFields.SpanName, Len);
        o.WriteString(s.Name);
        if (s.Kind != SpanKind.Unspecified)
        {
            o.WriteTag(OtlpFields.SpanKind, Varint);
            o.WriteEnum((int)s.Kind);
        }

        WriteFixed64Field(o, OtlpFields.SpanStart, (ulong)s.StartUnixNanos);
        WriteFixed64Field(o, OtlpFields.SpanEnd, (ulong)s.EndUnixNanos);
        foreach (var kv in AllAttributes(s))
        {
            WriteKeyValue(o, OtlpFields.SpanAttributes, kv.Key, kv.Value);
        }

        if (s.Status != SpanStatus.Unset)
        {
            o.WriteTag(OtlpFields.SpanStatus, Len);
            o.WriteLength(StatusSize(s.Status));
            o.WriteTag(OtlpFields.StatusCode, Varint);
            o.WriteEnum((int)s.Status);
        }
    }
}
