namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Field numbers of the OTLP v1 messages we read and write, from the OpenTelemetry protocol
/// (opentelemetry-proto: collector/*/v1/*_service.proto, metrics/v1/metrics.proto,
/// trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto). Only the subset
/// Aiops needs; everything else is skipped by wire type.
/// </summary>
internal static class OtlpFields
{
    // ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
    // ExportTraceServiceRequest   { repeated ResourceSpans resource_spans = 1; }
    public const int RequestResourceEntries = 1;

    // ResourceMetrics / ResourceSpans { Resource resource = 1; repeated Scope* = 2; string schema_url = 3; }
    public const int ResourceEntryResource = 1;
    public const int ResourceEntryScopes = 2;

    // ScopeMetrics / ScopeSpans { InstrumentationScope scope = 1; repeated Metric/Span = 2; string schema_url = 3; }
    public const int ScopeEntryItems = 2;

    // Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
    public const int ResourceAttributes = 1;

    // KeyValue { string key = 1; AnyValue value = 2; }
    public const int KeyValueKey = 1;
    public const int KeyValueValue = 2;

    // AnyValue oneof { string_value = 1; bool_value = 2; int_value = 3; double_value = 4;
    //                  ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }
    public const int AnyString = 1;
    public const int AnyBool = 2;
    public const int AnyInt = 3;
    public const int AnyDouble = 4;
    public const int AnyArray = 5;
    public const int AnyKvList = 6;
    public const int AnyBytes = 7;

    // ArrayValue { repeated AnyValue values = 1; }  KeyValueList { repeated KeyValue values = 1; }
    public const int ListValues = 1;

    // Metric { string name = 1; string description = 2; string unit = 3; oneof data { Gauge gauge = 5;
    //          Sum sum = 7; Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10;
    //          Summary summary = 11; } repeated KeyValue metadata = 12; }
    public const int MetricName = 1;
    public const int MetricDescription = 2;
    public const int MetricUnit = 3;
    public const int MetricGauge = 5;
    public const int MetricSum = 7;
    public const int MetricHistogram = 9;
    public const int MetricExponentialHistogram = 10;
    public const int MetricSummary = 11;
    public const int MetricMetadata = 12;

    // Gauge { data_points = 1; } Sum { data_points = 1; aggregation_temporality = 2; bool is_monotonic = 3; }
    // Histogram / ExponentialHistogram { data_points = 1; aggregation_temporality = 2; }
    public const int DataPoints = 1;
    public const int AggregationTemporality = 2;
    public const int IsMonotonic = 3;

    // NumberDataPoint { attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
    //                   double as_double = 4; sfixed64 as_int = 6; repeated Exemplar exemplars = 5; uint32 flags = 8; }
    public const int NumberAttributes = 7;
    public const int PointStartTime = 2;
    public const int PointTime = 3;
    public const int NumberAsDouble = 4;
    public const int NumberAsInt = 6;
    public const int NumberExemplars = 5;
    public const int NumberFlags = 8;

    // HistogramDataPoint { attributes = 9; start = 2; time = 3; fixed64 count = 4; optional double sum = 5;
    //   repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; exemplars = 8;
    //   uint32 flags = 10; optional double min = 11; optional double max = 12; }
    public const int HistogramAttributes = 9;
    public const int HistogramCount = 4;
    public const int HistogramSum = 5;
    public const int HistogramBucketCounts = 6;
    public const int HistogramExplicitBounds = 7;
    public const int HistogramExemplars = 8;
    public const int HistogramFlags = 10;
    public const int HistogramMin = 11;
    public const int HistogramMax = 12;

    // ExponentialHistogramDataPoint { attributes = 1; start = 2; time = 3; fixed64 count = 4;
    //   optional double sum = 5; sint32 scale = 6; fixed64 zero_count = 7; Buckets positive = 8;
    //   Buckets negative = 9; uint32 flags = 10; exemplars = 11; optional double min = 12;
    //   optional double max = 13; double zero_threshold = 14; }
    public const int ExpAttributes = 1;
    public const int ExpCount = 4;
    public const int ExpSum = 5;
    public const int ExpScale = 6;
    public const int ExpZeroCount = 7;
    public const int ExpPositive = 8;
    public const int ExpNegative = 9;
    public const int ExpFlags = 10;
    public const int ExpExemplars = 11;
    public const int ExpMin = 12;
    public const int ExpMax = 13;
    public const int ExpZeroThreshold = 14;

    // Buckets { sint32 offset = 1; repeated uint64 bucket_counts = 2; }
    public const int BucketsOffset = 1;
    public const int BucketsCounts = 2;

    // Exemplar { filtered_attributes = 7; fixed64 time_unix_nano = 2; double as_double = 3;
    //            sfixed64 as_int = 6; bytes span_id = 4; bytes trace_id = 5; }
    public const int ExemplarTime = 2;
    public const int ExemplarAsDouble = 3;
    public const int ExemplarAsInt = 6;
    public const int ExemplarSpanId = 4;
    public const int ExemplarTraceId = 5;

    // DataPointFlags: FLAG_NO_RECORDED_VALUE = 1 (the point marks a gap, it has no value).
    public const uint FlagNoRecordedValue = 1;

    // Span { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
    //        string name = 5; SpanKind kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
    //        repeated KeyValue attributes = 9; ... Status status = 15; fixed32 flags = 16; }
    public const int SpanTraceId = 1;
    public const int SpanSpanId = 2;
    public const int SpanTraceState = 3;
    public const int SpanParentSpanId = 4;
    public const int SpanName = 5;
    public const int SpanKind = 6;
    public const int SpanStart = 7;
    public const int SpanEnd = 8;
    public const int SpanAttributes = 9;
    public const int SpanStatus = 15;

    // Status { string message = 2; StatusCode code = 3; }
    public const int StatusMessage = 2;
    public const int StatusCode = 3;
}
