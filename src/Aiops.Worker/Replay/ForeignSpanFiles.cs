using Aiops.Ingestion;
using Aiops.Ingestion.Jaeger;
using Aiops.Ingestion.Zipkin;

namespace Aiops.Worker.Replay;

/// <summary>
/// Span files of other tracing systems in a replay dataset, recognised by their name:
/// <list type="bullet">
/// <item><c>*.zipkin.json</c>: Zipkin API v2 JSON, one array of spans per line (a whole file
/// holding one array is one line as far as the decoder cares; a pretty-printed array must be on
/// one line per record, as Zipkin's Kafka collector expects one array per message);</item>
/// <item><c>*.jaeger.json</c>: Jaeger spans in the protobuf JSON mapping, one span object per line
/// (the <c>jaeger_json</c> Kafka record, one per line);</item>
/// <item><c>*.jaeger.pb</c>: Jaeger protobuf <c>Span</c> messages, each preceded by its length as a
/// base-128 varint (protobuf's length-delimited stream form, as <c>writeDelimitedTo</c> writes).</item>
/// </list>
/// These are the same decoders the worker uses for <c>Kafka:SpansEncoding</c> =
/// <c>ZipkinJson</c> / <c>JaegerJson</c> / <c>JaegerProtobuf</c>, so a captured topic replays as it ran.
/// </summary>
internal sealed class ForeignSpanFiles
{
    private readonly ZipkinJsonDecoder _zipkin = new();
    private readonly JaegerJsonDecoder _jaegerJson = new();
    private readonly JaegerProtobufDecoder _jaegerProtobuf = new();

    /// <summary>True when <paramref name="path"/> names a Zipkin or Jaeger file; its spans and errors are then in <paramref name="batch"/> (cleared first).</summary>
    public bool TryRead(string path, DecodeBatch batch)
    {
        var name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".zipkin.json", StringComparison.Ordinal))
        {
            batch.Clear();
            DecodeLines(File.ReadAllBytes(path), batch, _zipkin.Decode);
            return true;
        }

        if (name.EndsWith(".jaeger.json", StringComparison.Ordinal))
        {
            batch.Clear();
            DecodeLines(File.ReadAllBytes(path), batch, _jaegerJson.Decode);
            return true;
        }

        if (name.EndsWith(".jaeger.pb", StringComparison.Ordinal))
        {
            batch.Clear();
            DecodeDelimited(File.ReadAllBytes(path), batch);
            return true;
        }

        return false;
    }

    private delegate void Decoder(ReadOnlySpan<byte> record, DecodeBatch batch);

    private static void DecodeLines(ReadOnlySpan<byte> file, DecodeBatch batch, Decoder decode)
    {
        while (!file.IsEmpty)
        {
            int end = file.IndexOf((byte)'\n');
            var line = end < 0 ? file : file[..end];
            file = end < 0 ? [] : file[(end + 1)..];
            if (!line.Trim(" \t\r"u8).IsEmpty)
            {
                decode(line, batch);
            }
        }
    }

    private void DecodeDelimited(ReadOnlySpan<byte> file, DecodeBatch batch)
    {
        long position = 0;
        while (!file.IsEmpty)
        {
            // A varint length: 7 bits per byte, low group first, high bit set on all but the last byte.
            ulong length = 0;
            int used = 0;
            while (true)
            {
                if (used == file.Length || used == 10)
                {
                    batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, "the file ends inside a length prefix", position));
                    return;
                }

                byte b = file[used];
                length |= (ulong)(b & 0x7F) << (7 * used);
                used++;
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }

            if (length > (ulong)(file.Length - used))
            {
                batch.Errors.Add(new DecodeError(DecodeErrorKind.Truncated, $"a span of {length} bytes runs past the end of the file", position));
                return;
            }

            _jaegerProtobuf.Decode(file.Slice(used, (int)length), batch);
            file = file[(used + (int)length)..];
            position += used + (long)length;
        }
    }
}
