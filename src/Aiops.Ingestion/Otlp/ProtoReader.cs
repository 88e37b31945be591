using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Aiops.Ingestion.Otlp;

/// <summary>Protobuf wire types (encoding spec, "Message Structure").</summary>
internal static class WireType
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int StartGroup = 3;
    public const int EndGroup = 4;
    public const int Fixed32 = 5;

    public static string Name(int wireType) => wireType switch
    {
        Varint => "VARINT",
        Fixed64 => "I64",
        LengthDelimited => "LEN",
        StartGroup => "SGROUP",
        EndGroup => "EGROUP",
        Fixed32 => "I32",
        _ => "invalid(" + wireType + ")",
    };
}

/// <summary>
/// A forward-only reader of the protobuf wire format over a <see cref="ReadOnlySpan{T}"/>.
/// Google.Protobuf's <c>ParseContext</c> can only be created inside that library (through a
/// generated message's <c>InternalMergeFrom</c>), and <c>CodedInputStream</c> takes a
/// <c>byte[]</c> and throws on bad input; this reader works on any span (a Kafka record's memory,
/// a slice of a pooled buffer) with no allocation, and reports bad input by return value so one
/// corrupt message costs an error entry, not an exception. Nested messages are read as sub-spans
/// (<see cref="TryReadLengthDelimited"/>) with their own reader, so a bad length can never read
/// past its parent.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    /// <summary>Offset of the next byte.</summary>
    public readonly int Position => _pos;

    /// <summary>True when all bytes are consumed.</summary>
    public readonly bool IsAtEnd => _pos >= _data.Length;

    /// <summary>Reads a field tag. False on a malformed varint or field number 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadTag(out int field, out int wireType)
    {
        if (_pos < _data.Length && _data[_pos] < 0x80)
        {
            uint b = _data[_pos++];
            field = (int)(b >> 3);
            wireType = (int)(b & 7);
            return field != 0;
        }

        if (!TryReadVarint(out ulong tag) || tag > uint.MaxValue || (tag >> 3) == 0)
        {
            field = 0;
            wireType = 0;
            return false;
        }

        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return true;
    }

    /// <summary>Reads a base-128 varint (at most 10 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadVarint(out ulong value)
    {
        if (_pos < _data.Length && _data[_pos] < 0x80)
        {
            value = _data[_pos++];
            return true;
        }

        return TryReadVarintSlow(out value);
    }

    private bool TryReadVarintSlow(out ulong value)
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length)
            {
                value = 0;
                return false;
            }

            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = result;
                return true;
            }
        }

        value = 0;
        return false; // more than 10 bytes: malformed
    }

    /// <summary>Reads 8 little-endian bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadFixed64(out ulong value)
    {
        if (_pos + 8 > _data.Length)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(_pos, 8));
        _pos += 8;
        return true;
    }

    /// <summary>Reads 4 little-endian bytes.</summary>
    public bool TryReadFixed32(out uint value)
    {
        if (_pos + 4 > _data.Length)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt32LittleEndian(_data.Slice(_pos, 4));
        _pos += 4;
        return true;
    }

    /// <summary>Reads a double (I64 wire type).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadDouble(out double value)
    {
        bool ok = TryReadFixed64(out ulong bits);
        value = BitConverter.UInt64BitsToDouble(bits);
        return ok;
    }

    /// <summary>Reads a length prefix and returns that many bytes. False when the length runs past the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadLengthDelimited(out ReadOnlySpan<byte> value)
    {
        if (!TryReadVarint(out ulong length) || length > (ulong)(_data.Length - _pos))
        {
            value = default;
            return false;
        }

        value = _data.Slice(_pos, (int)length);
        _pos += (int)length;
        return true;
    }

    /// <summary>Skips one field's value of the given wire type. False on truncation or an unsupported wire type (groups, 6, 7).</summary>
    public bool TrySkip(int wireType)
    {
        switch (wireType)
        {
            case WireType.Varint:
                return TryReadVarint(out _);
            case WireType.Fixed64:
                return TryReadFixed64(out _);
            case WireType.LengthDelimited:
                return TryReadLengthDelimited(out _);
            case WireType.Fixed32:
                return TryReadFixed32(out _);
            default:
                return false;
        }
    }
}
