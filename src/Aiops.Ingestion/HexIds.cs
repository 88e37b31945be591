using System.Buffers.Binary;

namespace Aiops.Ingestion;

/// <summary>Hex and binary forms of W3C trace-context ids (16-byte trace id, 8-byte span id, big-endian).</summary>
internal static class HexIds
{
    public static bool TryParseTraceId(ReadOnlySpan<byte> hex, out UInt128 id)
    {
        id = 0;
        if (hex.Length != 32)
        {
            return false;
        }

        if (!TryParseSpanId(hex[..16], out ulong hi) || !TryParseSpanId(hex[16..], out ulong lo))
        {
            return false;
        }

        id = new UInt128(hi, lo);
        return true;
    }

    public static bool TryParseSpanId(ReadOnlySpan<byte> hex, out ulong id)
    {
        id = 0;
        if (hex.Length != 16)
        {
            return false;
        }

        ulong v = 0;
        for (int i = 0; i < 16; i++)
        {
            int d = HexDigit(hex[i]);
            if (d < 0)
            {
                return false;
            }

            v = (v << 4) | (uint)d;
        }

        id = v;
        return true;
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Reads a binary trace id (OTLP protobuf <c>bytes</c>, 16 bytes big-endian); an empty field is 0.</summary>
    public static bool TryReadTraceId(ReadOnlySpan<byte> bytes, out UInt128 id)
    {
        if (bytes.IsEmpty)
        {
            id = 0;
            return true;
        }

        if (bytes.Length != 16)
        {
            id = 0;
            return false;
        }

        id = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }

    /// <summary>Reads a binary span id (8 bytes big-endian); an empty field is 0.</summary>
    public static bool TryReadSpanId(ReadOnlySpan<byte> bytes, out ulong id)
    {
        if (bytes.IsEmpty)
        {
            id = 0;
            return true;
        }

        if (bytes.Length != 8)
        {
            id = 0;
            return false;
        }

        id = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        return true;
    }
}
