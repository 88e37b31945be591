using System.Buffers.Binary;
using System.Text;

namespace Aiops.Ingestion.Tests;

/// <summary>
/// A tiny hand-written protobuf writer for tests, independent of Google.Protobuf and of the
/// production encoder: each helper emits one field as tag byte(s) (field_number &lt;&lt; 3 | wire_type)
/// followed by its payload, per the protobuf encoding spec. Field numbers used by the tests are
/// the OTLP ones, written out at the call sites with their names.
/// </summary>
internal static class Pb
{
    public static byte[] Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    public static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }

        bytes.Add((byte)v);
        return [.. bytes];
    }

    /// <summary>Wire type 0 (VARINT).</summary>
    public static byte[] VarintField(int field, ulong v) => [.. Tag(field, 0), .. Varint(v)];

    /// <summary>Wire type 1 (I64), an unsigned/fixed64 value.</summary>
    public static byte[] Fixed64(int field, ulong v)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return [.. Tag(field, 1), .. b];
    }

    /// <summary>Wire type 1 (I64), a double.</summary>
    public static byte[] Double(int field, double v) => Fixed64(field, BitConverter.DoubleToUInt64Bits(v));

    /// <summary>Wire type 2 (LEN) holding the concatenated parts.</summary>
    public static byte[] Len(int field, params byte[][] parts)
    {
        byte[] body = [.. parts.SelectMany(p => p)];
        return [.. Tag(field, 2), .. Varint((ulong)body.Length), .. body];
    }

    public static byte[] Str(int field, string s) => Len(field, Encoding.UTF8.GetBytes(s));

    public static byte[] Bytes(int field, byte[] b) => Len(field, b);

    /// <summary>KeyValue { key = 1; value = 2: AnyValue { string_value = 1 } }.</summary>
    public static byte[] StringAttribute(int field, string key, string value) =>
        Len(field, Str(1, key), Len(2, Str(1, value)));

    /// <summary>KeyValue with raw (possibly invalid UTF-8) value bytes.</summary>
    public static byte[] RawStringAttribute(int field, string key, byte[] value) =>
        Len(field, Str(1, key), Len(2, Bytes(1, value)));

    /// <summary>ResourceMetrics (request field 1) of one service with one metric.</summary>
    public static byte[] ResourceMetrics(string service, params byte[][] metrics) =>
        Len(1, // ExportMetricsServiceRequest.resource_metrics
            Len(1, StringAttribute(1, "service.name", service)), // ResourceMetrics.resource { attributes = 1 }
            Len(2, metrics)); // ResourceMetrics.scope_metrics { metrics = 2 }

    /// <summary>ScopeMetrics.metrics entry (field 2) with name (1), unit (3) and a data message.</summary>
    public static byte[] Metric(string name, string unit, int dataField, params byte[][] data) =>
        Len(2, Str(1, name), Str(3, unit), Len(dataField, data));

    /// <summary>NumberDataPoint { time_unix_nano = 3 (fixed64); as_double = 4 (double); attributes = 7 }.</summary>
    public static byte[] GaugePoint(long timeNanos, double value, params byte[][] attributes) =>
        Len(1, [.. attributes.Select(a => a), Fixed64(3, (ulong)timeNanos), Double(4, value)]);
}
