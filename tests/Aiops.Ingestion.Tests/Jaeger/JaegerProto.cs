using System.Buffers.Binary;
using System.Text;

namespace Aiops.Ingestion.Tests.Jaeger;

/// <summary>
/// A minimal protobuf writer for the Jaeger tests, independent of the decoder: a field is its tag
/// varint (field_number &lt;&lt; 3 | wire_type) then the payload, per the protobuf encoding spec.
/// </summary>
internal static class JaegerProto
{
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

    public static byte[] VarintField(int field, ulong v) => [.. Varint((ulong)(field << 3)), .. Varint(v)];

    public static byte[] DoubleField(int field, double v)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(b, v);
        return [.. Varint((ulong)((field << 3) | 1)), .. b];
    }

    public static byte[] Len(int field, params byte[][] parts)
    {
        byte[] body = [.. parts.SelectMany(p => p)];
        return [.. Varint((ulong)((field << 3) | 2)), .. Varint((ulong)body.Length), .. body];
    }

    public static byte[] Str(int field, string s) => Len(field, Encoding.UTF8.GetBytes(s));
}
