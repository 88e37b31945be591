using Aiops.Core;
using Aiops.Ingestion;
using Aiops.Ingestion.Csv;
using Aiops.Ingestion.JsonLines;
using Aiops.Ingestion.Otlp;

namespace Aiops.Worker.Replay;

/// <summary>One record of a dataset, span or point, with its event time.</summary>
internal readonly record struct DatasetRecord(long TimestampMs, bool IsSpan, SpanRecord Span, MetricPoint Point);

/// <summary>
/// Reads a dataset directory into one event-time-ordered list: <c>metrics.jsonl</c> /
/// <c>spans.jsonl</c> (our JSON lines), <c>*.otlp.json</c> and <c>*.pb</c> files (one OTLP export
/// request each; the file name says <c>metrics</c> or <c>spans</c>/<c>traces</c>), Zipkin and
/// Jaeger span files (<see cref="ForeignSpanFiles"/>), and <c>*.csv</c>
/// (NAB layout, one series per file named after the file). Bad lines or records are counted, not thrown.
/// </summary>
internal sealed class DatasetReader
{
    public List<DatasetRecord> Records { get; } = [];

    /// <summary>
    /// Exemplars of the OTLP metric files' data points, in event-time order: the replay feeds each
    /// to the pipeline before the first record at or after its time, as the worker feeds a record's
    /// exemplars before its points.
    /// </summary>
    public List<MetricExemplar> Exemplars { get; } = [];

    /// <summary>Decode errors, by kind.</summary>
    public Dictionary<DecodeErrorKind, int> Errors { get; } = [];

    /// <summary>Files read.</summary>
    public List<string> Files { get; } = [];

    public static DatasetReader Read(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Dataset directory '{directory}' does not exist.");
        }

        var reader = new DatasetReader();
        var lines = new JsonLinesReader();
        var metricsDecoder = new OtlpMetricsDecoder();
        var traceDecoder = new OtlpTraceDecoder();
        var batch = new DecodeBatch();
        var foreign = new ForeignSpanFiles();
        foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path).ToLowerInvariant();
            if (foreign.TryRead(path, batch))
            {
                reader.Add(batch);
                reader.Files.Add(Path.GetFileName(path));
                continue;
            }

            if (name.EndsWith(".jsonl", StringComparison.Ordinal))
            {
                foreach (var r in lines.ReadFile(path))
                {
                    switch (r.Type)
                    {
                        case JsonLineType.Metric:
                            reader.Records.Add(new DatasetRecord(r.Metric.TimestampMs, false, default, r.Metric));
                            break;
                        case JsonLineType.Span:
                            reader.Records.Add(new DatasetRecord(r.Span.EndUnixNanos / 1_000_000, true, r.Span, default));
                            break;
                        default:
                            reader.Count(r.Error.Kind);
                            break;
                    }
                }
            }
            else if (name.EndsWith(".otlp.json", StringComparison.Ordinal) || name.EndsWith(".pb", StringComparison.Ordinal))
            {
                batch.Clear();
                var bytes = File.ReadAllBytes(path);
                var isSpans = name.Contains("span", StringComparison.Ordinal) || name.Contains("trace", StringComparison.Ordinal);
                var isJson = name.EndsWith(".json", StringComparison.Ordinal);
                if (isSpans)
                {
                    if (isJson)
                    {
                        traceDecoder.DecodeJson(bytes, batch);
                    }
                    else
                    {
                        traceDecoder.Decode(bytes, batch);
                    }
                }
                else if (isJson)
                {
                    metricsDecoder.DecodeJson(bytes, batch);
                }
                else
                {
                    metricsDecoder.Decode(bytes, batch);
                }

                reader.Add(batch);
            }
            else if (name.EndsWith(".csv", StringComparison.Ordinal))
            {
                var series = new SeriesKey(Path.GetFileNameWithoutExtension(path), "value");
                foreach (var row in CsvSeriesReader.ReadFile(path, series))
                {
                    if (row.IsError)
                    {
                        reader.Count(row.Error.Kind);
                    }
                    else
                    {
                        reader.Records.Add(new DatasetRecord(row.Point.TimestampMs, false, default, row.Point));
                    }
                }
            }
            else
            {
                continue;
            }

            reader.Files.Add(Path.GetFileName(path));
        }

        // Event time order; a stable sort keeps a file's own order within one millisecond.
        var ordered = reader.Records.OrderBy(static r => r.TimestampMs).ToList();
        reader.Records.Clear();
        reader.Records.AddRange(ordered);
        var exemplars = reader.Exemplars.OrderBy(static e => e.TimestampMs).ToList();
        reader.Exemplars.Clear();
        reader.Exemplars.AddRange(exemplars);
        return reader;
    }

    private void Add(DecodeBatch batch)
    {
        foreach (var p in batch.Metrics)
        {
            Records.Add(new DatasetRecord(p.TimestampMs, false, default, p));
        }

        Exemplars.AddRange(batch.Exemplars);
        foreach (var s in batch.Spans)
        {
            Records.Add(new DatasetRecord(s.EndUnixNanos / 1_000_000, true, s, default));
        }

        foreach (var e in batch.Errors)
        {
            Count(e.Kind);
        }
    }

    private void Count(DecodeErrorKind kind) => Errors[kind] = Errors.GetValueOrDefault(kind) + 1;
}
