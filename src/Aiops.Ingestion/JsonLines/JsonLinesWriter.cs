using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Aiops.Core;

namespace Aiops.Ingestion.JsonLines;

/// <summary>
/// Writes our JSON-lines format (TEAM.md) with <see cref="Utf8JsonWriter"/>: one object per line,
/// <c>\n</c> separated, UTF-8 without BOM. Output is buffered (64 KiB) and copied to the stream in
/// blocks. What it writes, <see cref="JsonLinesReader"/> reads back to equal records (labels are
/// split from the canonical <c>k1=v1,k2=v2</c> form at the first <c>=</c> of each comma-separated
/// pair, so label values containing commas do not round-trip).
/// </summary>
public sealed class JsonLinesWriter : IDisposable
{
    private const int FlushThreshold = 64 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold + 4096);
    private readonly Utf8JsonWriter _json;

    /// <summary>Writes to <paramref name="stream"/>; disposes it on <see cref="Dispose"/> unless <paramref name="leaveOpen"/>.</summary>
    public JsonLinesWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Indented = false });
    }

    /// <summary>Creates (or truncates) a file and writes to it.</summary>
    public static JsonLinesWriter Create(string path) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));

    /// <summary>Writes one metric point.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value or total is NaN or infinite (JSON has no such numbers).</exception>
    public void Write(in MetricPoint point)
    {
        if (!double.IsFinite(point.Value) || !double.IsFinite(point.Total))
        {
            throw new ArgumentOutOfRangeException(nameof(point), $"metric point {point.Series} at {point.TimestampMs} has a non-finite value or total");
        }

        _json.WriteStartObject();
        _json.WriteString("type"u8, "metric"u8);
        _json.WriteNumber("ts"u8, point.TimestampMs);
        _json.WriteString("service"u8, point.Series.Service);
        _json.WriteString("metric"u8, point.Series.Metric);
        string labels = point.Series.Labels ?? string.Empty;
        if (labels.Length > 0)
        {
            _json.WriteStartObject("labels"u8);
            foreach (Range r in labels.AsSpan().Split(','))
            {
                ReadOnlySpan<char> pair = labels.AsSpan(r);
                int eq = pair.IndexOf('=');
                if (eq < 0)
                {
                    _json.WriteString(pair, ReadOnlySpan<char>.Empty);
                }
                else
                {
                    _json.WriteString(pair[..eq], pair[(eq + 1)..]);
                }
            }

            _json.WriteEndObject();
        }

        _json.WriteString("kind"u8, JsonLineNames.KindName(point.Kind));
        _json.WriteNumber("value"u8, point.Value);
        if (point.Total != 0)
        {
            _json.WriteNumber("total"u8, point.Total);
        }

        _json.WriteEndObject();
        EndLine();
    }

    /// <summary>Writes one span; the lifted peer attributes go back into <c>attributes</c>.</summary>
    public void Write(in SpanRecord span)
    {
        Span<char> hex = stackalloc char[32];
        _json.WriteStartObject();
        _json.WriteString("type"u8, "span"u8);
        span.TraceId.TryFormat(hex, out int n, "x32", CultureInfo.InvariantCulture);
        _json.WriteString("traceId"u8, hex[..n]);
        span.SpanId.TryFormat(hex, out n, "x16", CultureInfo.InvariantCulture);
        _json.WriteString("spanId"u8, hex[..n]);
        if (span.ParentSpanId == 0)
        {
            _json.WriteString("parentSpanId"u8, ""u8);
        }
        else
        {
            span.ParentSpanId.TryFormat(hex, out n, "x16", CultureInfo.InvariantCulture);
            _json.WriteString("parentSpanId"u8, hex[..n]);
        }

        _json.WriteString("service"u8, span.Service);
        if (span.ServiceInstance is not null)
        {
            _json.WriteString("instance"u8, span.ServiceInstance);
        }

        if (span.ServiceVersion is not null)
        {
            _json.WriteString("version"u8, span.ServiceVersion);
        }

        _json.WriteString("name"u8, span.Name);
        _json.WriteString("kind"u8, JsonLineNames.SpanKindName(span.Kind));
        _json.WriteNumber("start"u8, span.StartUnixNanos);
        _json.WriteNumber("end"u8, span.EndUnixNanos);
        _json.WriteString("status"u8, JsonLineNames.StatusName(span.Status));
        IReadOnlyList<SpanAttribute> attributes = span.Attributes;
        if (attributes.Count > 0 || span.PeerService is not null || span.ServerAddress is not null || span.DbSystem is not null || span.MessagingSystem is not null)
        {
            _json.WriteStartObject("attributes"u8);
            WriteIfSet(SpanAttributeNames.PeerService, span.PeerService);
            WriteIfSet(SpanAttributeNames.ServerAddress, span.ServerAddress);
            WriteIfSet(SpanAttributeNames.DbSystem, span.DbSystem);
            WriteIfSet(SpanAttributeNames.MessagingSystem, span.MessagingSystem);
            for (int i = 0; i < attributes.Count; i++)
            {
                _json.WriteString(attributes[i].Key, attributes[i].Value);
            }

            _json.WriteEndObject();
        }

        _json.WriteEndObject();
        EndLine();
    }

    /// <summary>Writes buffered lines to the stream and flushes it.</summary>
    public void Flush()
    {
        _json.Flush();
        if (_buffer.WrittenCount > 0)
        {
            _stream.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
        }

        _stream.Flush();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Flush();
        _json.Dispose();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private void WriteIfSet(string key, string? value)
    {
        if (value is not null)
        {
            _json.WriteString(key, value);
        }
    }

    private void EndLine()
    {
        _json.Flush();
        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
        _json.Reset(_buffer);
        if (_buffer.WrittenCount >= FlushThreshold)
        {
            _stream.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
        }
    }
}
