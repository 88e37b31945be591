using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// Good and bad records for the malformed-input fault test: JSON lines on the metrics topic and
/// OTLP protobuf <c>ExportTraceServiceRequest</c>s on the spans topic, written field by field
/// (field numbers from the OpenTelemetry protocol's trace.proto, common.proto, resource.proto), so
/// each bad record is broken in exactly one way.
/// </summary>
internal static class MalformedRecords
{
    /// <summary>2026-01-01T00:00:00Z in Unix ms: the event-time origin of the good records.</summary>
    public const long T0 = 1_767_225_600_000;

    /// <summary>The bad kinds, in the order <see cref="Bad"/> takes them; <c>Topic</c> is 'm' (metrics) or 's' (spans).</summary>
    public static readonly (string Name, char Topic)[] Kinds =
    [
        ("malformed JSON", 'm'),
        ("wrong JSON type", 'm'),
        ("NaN value", 'm'),
        ("huge value (1e400)", 'm'),
        ("timestamp in 1970", 'm'),
        ("timestamp in 2103", 'm'),
        ("unknown metric kind", 'm'),
        ("label explosion (40 labels)", 'm'),
        ("invalid UTF-8 in a label", 'm'),
        ("empty record", 'm'),
        ("unknown record type", 'm'),
        ("missing metric name", 'm'),
        ("truncated protobuf", 's'),
        ("wrong protobuf wire type", 's'),
        ("8-byte trace id", 's'),
        ("unknown span kind 42", 's'),
        ("invalid UTF-8 in service.name", 's'),
        ("random bytes", 's'),
        ("oversized record (4.5 MiB here, see the test)", 's'),
    ];

    /// <summary>A good metric line: service <c>svc-{series}</c>, metric <c>cpu</c>, at minute <paramref name="minute"/>.</summary>
    public static byte[] GoodMetric(int series, int minute, double value) => Encoding.UTF8.GetBytes(string.Create(
        CultureInfo.InvariantCulture,
        $"{{\"type\":\"metric\",\"service\":\"svc-{series}\",\"metric\":\"cpu\",\"ts\":{T0 + (minute * 60_000L)},\"value\":{value}}}"));

    /// <summary>A good one-span request; <paramref name="spanId"/> identifies it (non-zero).</summary>
    public static byte[] GoodSpan(ulong spanId, int minute) => SpanRequest("checkout", TraceId(spanId), spanId, kind: 2, minute);

    /// <summary>Bad record number <paramref name="i"/> of kind <paramref name="kind"/> (index into <see cref="Kinds"/>).</summary>
    public static byte[] Bad(int kind, int i, Random random, byte[] oversized)
    {
        var ts = (T0 + (i * 1_000L)).ToString(CultureInfo.InvariantCulture);
        var head = "{\"type\":\"metric\",\"service\":\"svc-bad\",\"metric\":\"cpu\"";
        return kind switch
        {
            0 => Encoding.UTF8.GetBytes(head + ",\"ts\":" + ts + ",\"value\":"),
            1 => Encoding.UTF8.GetBytes(head + ",\"ts\":\"yesterday\",\"value\":1}"),
            2 => Encoding.UTF8.GetBytes(head + ",\"ts\":" + ts + ",\"value\":\"NaN\"}"),
            3 => Encoding.UTF8.GetBytes(head + ",\"ts\":" + ts + ",\"value\":1e400}"),
            4 => Encoding.UTF8.GetBytes(head + ",\"ts\":" + (1_000L + i).ToString(CultureInfo.InvariantCulture) + ",\"value\":1}"),
            5 => Encoding.UTF8.GetBytes(head + ",\"ts\":" + (4_200_000_000_000L + i).ToString(CultureInfo.InvariantCulture) + ",\"value\":1}"),
            6 => Encoding.UTF8.GetBytes(head + ",\"kind\":\"banana\",\"ts\":" + ts + ",\"value\":1}"),
            7 => Encoding.UTF8.GetBytes(head + ",\"labels\":{" + string.Join(',', Enumerable.Range(0, 40).Select(l => $"\"user{l}\":\"u{i}-{l}\"")) + "},\"ts\":" + ts + ",\"value\":1}"),
            8 => [.. Encoding.UTF8.GetBytes(head + ",\"labels\":{\"pod\":\""), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\"},\"ts\":" + ts + ",\"value\":1}")],
            9 => [],
            10 => Encoding.UTF8.GetBytes("{\"type\":\"log\",\"service\":\"svc-bad\",\"ts\":" + ts + "}"),
            11 => Encoding.UTF8.GetBytes("{\"type\":\"metric\",\"service\":\"svc-bad\",\"ts\":" + ts + ",\"value\":1}"),
            12 => Truncated(random, i),
            13 => WrongWireType(i),
            14 => SpanRequest("checkout", traceId: new byte[8], (ulong)i + 1, kind: 2, minute: 1),
            15 => SpanRequest("checkout", TraceId((ulong)i + 1), (ulong)i + 1, kind: 42, minute: 1),
            16 => SpanRequest([0x63, 0xC3, 0x28, 0x6B], TraceId((ulong)i + 1), (ulong)i + 1, kind: 2, minute: 1),
            17 => RandomBytes(random),
            _ => oversized,
        };
    }

    private static byte[] Truncated(Random random, int i)
    {
        var whole = SpanRequest("checkout", TraceId((ulong)i + 1), (ulong)i + 1, kind: 2, minute: 1);
        return whole[..random.Next(1, whole.Length - 1)];
    }

    private static byte[] WrongWireType(int i)
    {
        // A span whose start time (field 7, fixed64) arrives as a varint (wire type 0).
        var span = new Proto();
        span.Bytes(1, TraceId((ulong)i + 1)).Bytes(2, SpanId((ulong)i + 1)).String(5, "GET /cart").Varint(7, 123);
        return Wrap("checkout"u8.ToArray(), span);
    }

    private static byte[] RandomBytes(Random random)
    {
        // Random bytes, but never starting with a valid tag of field 1 (0x0A), so the decoder fails at once.
        var bytes = new byte[random.Next(8, 200)];
        random.NextBytes(bytes);
        bytes[0] = 0xFF;
        return bytes;
    }

    private static byte[] SpanRequest(string service, byte[] traceId, ulong spanId, ulong kind, int minute) =>
        SpanRequest(Encoding.UTF8.GetBytes(service), traceId, spanId, kind, minute);

    private static byte[] SpanRequest(byte[] service, byte[] traceId, ulong spanId, ulong kind, int minute)
    {
        var startNs = (ulong)(T0 + (minute * 60_000L)) * 1_000_000UL;
        var span = new Proto();
        span.Bytes(1, traceId).Bytes(2, SpanId(spanId)).String(5, "GET /cart").Varint(6, kind).Fixed64(7, startNs).Fixed64(8, startNs + 5_000_000UL);
        return Wrap(service, span);
    }

    private static byte[] Wrap(byte[] service, Proto span)
    {
        var value = new Proto().Bytes(1, service);
        var keyValue = new Proto().String(1, "service.name").Message(2, value);
        var resource = new Proto().Message(1, keyValue);
        var scope = new Proto().Message(2, span);
        var resourceSpans = new Proto().Message(1, resource).Message(2, scope);
        return new Proto().Message(1, resourceSpans).ToArray();
    }

    private static byte[] TraceId(ulong n)
    {
        var id = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(id, 0xA1A1_0000_0000_0000UL);
        BinaryPrimitives.WriteUInt64BigEndian(id.AsSpan(8), n);
        return id;
    }

    private static byte[] SpanId(ulong n)
    {
        var id = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(id, n);
        return id;
    }

    /// <summary>A minimal protobuf writer: tag, then varint, fixed64 or length-delimited payload.</summary>
    private sealed class Proto
    {
        private readonly List<byte> _bytes = [];

        public Proto Varint(int field, ulong value)
        {
            Raw(((ulong)field << 3) | 0);
            Raw(value);
            return this;
        }

        public Proto Fixed64(int field, ulong value)
        {
            Raw(((ulong)field << 3) | 1);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(b, value);
            _bytes.AddRange(b);
            return this;
        }

        public Proto Bytes(int field, byte[] value)
        {
            Raw(((ulong)field << 3) | 2);
            Raw((ulong)value.Length);
            _bytes.AddRange(value);
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => [.. _bytes];

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.Add((byte)(value | 0x80));
                value >>= 7;
            }

            _bytes.Add((byte)value);
        }
    }
}
