using System.Buffers.Text;

namespace Aiops.Ingestion.Otlp;

/// <summary>Outcome of reading a protobuf sub-message.</summary>
internal enum ProtoStatus : byte
{
    Ok = 0,
    Truncated = 1,
    WrongWireType = 2,
    TooDeep = 3,
}

/// <summary>
/// Renders an OTLP <c>AnyValue</c> (protobuf bytes) as UTF-8 text into a growable buffer:
/// strings as-is, booleans <c>true</c>/<c>false</c>, integers and doubles in invariant form, bytes
/// as base64, arrays <c>[a,b]</c> and key-value lists <c>{k=v}</c> recursively (depth ≤ 8).
/// </summary>
internal static class AnyValueText
{
    private const int MaxDepth = 8;

    /// <summary>Appends the text of <paramref name="anyValue"/> at <paramref name="length"/>.</summary>
    public static ProtoStatus Append(ReadOnlySpan<byte> anyValue, ref byte[] buffer, ref int length, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            return ProtoStatus.TooDeep;
        }

        var r = new ProtoReader(anyValue);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return ProtoStatus.Truncated;
            }

            switch (field)
            {
                case OtlpFields.AnyString:
                case OtlpFields.AnyBytes:
                    {
                        if (wt != WireType.LengthDelimited)
                        {
                            return ProtoStatus.WrongWireType;
                        }

                        if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> s))
                        {
                            return ProtoStatus.Truncated;
                        }

                        if (field == OtlpFields.AnyString)
                        {
                            Write(s, ref buffer, ref length);
                        }
                        else
                        {
                            Ensure(ref buffer, length + Base64.GetMaxEncodedToUtf8Length(s.Length));
                            Base64.EncodeToUtf8(s, buffer.AsSpan(length), out _, out int written);
                            length += written;
                        }

                        break;
                    }

                case OtlpFields.AnyBool:
                case OtlpFields.AnyInt:
                    {
                        if (wt != WireType.Varint)
                        {
                            return ProtoStatus.WrongWireType;
                        }

                        if (!r.TryReadVarint(out ulong v))
                        {
                            return ProtoStatus.Truncated;
                        }

                        Ensure(ref buffer, length + 24);
                        if (field == OtlpFields.AnyBool)
                        {
                            Write(v != 0 ? "true"u8 : "false"u8, ref buffer, ref length);
                        }
                        else
                        {
                            Utf8Formatter.TryFormat((long)v, buffer.AsSpan(length), out int written);
                            length += written;
                        }

                        break;
                    }

                case OtlpFields.AnyDouble:
                    {
                        if (wt != WireType.Fixed64)
                        {
                            return ProtoStatus.WrongWireType;
                        }

                        if (!r.TryReadDouble(out double d))
                        {
                            return ProtoStatus.Truncated;
                        }

                        Ensure(ref buffer, length + 32);
                        d.TryFormat(buffer.AsSpan(length), out int written, "R", System.Globalization.CultureInfo.InvariantCulture);
                        length += written;
                        break;
                    }

                case OtlpFields.AnyArray:
                case OtlpFields.AnyKvList:
                    {
                        if (wt != WireType.LengthDelimited)
                        {
                            return ProtoStatus.WrongWireType;
                        }

                        if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> list))
                        {
                            return ProtoStatus.Truncated;
                        }

                        ProtoStatus st = AppendList(list, field == OtlpFields.AnyKvList, ref buffer, ref length, depth + 1);
                        if (st != ProtoStatus.Ok)
                        {
                            return st;
                        }

                        break;
                    }

                default:
                    if (!r.TrySkip(wt))
                    {
                        return wt is WireType.StartGroup or WireType.EndGroup or > WireType.Fixed32 ? ProtoStatus.WrongWireType : ProtoStatus.Truncated;
                    }

                    break;
            }
        }

        return ProtoStatus.Ok;
    }

    private static ProtoStatus AppendList(ReadOnlySpan<byte> list, bool keyValues, ref byte[] buffer, ref int length, int depth)
    {
        Write(keyValues ? "{"u8 : "["u8, ref buffer, ref length);
        var r = new ProtoReader(list);
        bool first = true;
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return ProtoStatus.Truncated;
            }

            if (field != OtlpFields.ListValues)
            {
                if (!r.TrySkip(wt))
                {
                    return ProtoStatus.Truncated;
                }

                continue;
            }

            if (wt != WireType.LengthDelimited)
            {
                return ProtoStatus.WrongWireType;
            }

            if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> item))
            {
                return ProtoStatus.Truncated;
            }

            if (!first)
            {
                Write(","u8, ref buffer, ref length);
            }

            first = false;
            ProtoStatus st;
            if (keyValues)
            {
                st = ReadKeyValue(item, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
                if (st == ProtoStatus.Ok)
                {
                    Write(key, ref buffer, ref length);
                    Write("="u8, ref buffer, ref length);
                    st = Append(value, ref buffer, ref length, depth);
                }
            }
            else
            {
                st = Append(item, ref buffer, ref length, depth);
            }

            if (st != ProtoStatus.Ok)
            {
                return st;
            }
        }

        Write(keyValues ? "}"u8 : "]"u8, ref buffer, ref length);
        return ProtoStatus.Ok;
    }

    /// <summary>Splits a <c>KeyValue</c> message into its key bytes and its <c>AnyValue</c> bytes.</summary>
    public static ProtoStatus ReadKeyValue(ReadOnlySpan<byte> keyValue, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = default;
        value = default;
        var r = new ProtoReader(keyValue);
        while (!r.IsAtEnd)
        {
            if (!r.TryReadTag(out int field, out int wt))
            {
                return ProtoStatus.Truncated;
            }

            if (field is OtlpFields.KeyValueKey or OtlpFields.KeyValueValue)
            {
                if (wt != WireType.LengthDelimited)
                {
                    return ProtoStatus.WrongWireType;
                }

                if (!r.TryReadLengthDelimited(out ReadOnlySpan<byte> s))
                {
                    return ProtoStatus.Truncated;
                }

                if (field == OtlpFields.KeyValueKey)
                {
                    key = s;
                }
                else
                {
                    value = s;
                }
            }
            else if (!r.TrySkip(wt))
            {
                return ProtoStatus.Truncated;
            }
        }

        return ProtoStatus.Ok;
    }

    /// <summary>
    /// When <paramref name="anyValue"/> is exactly a <c>string_value</c>, returns its bytes without
    /// copying (the common case for resource and data-point attributes).
    /// </summary>
    public static bool TryGetString(ReadOnlySpan<byte> anyValue, out ReadOnlySpan<byte> value)
    {
        var r = new ProtoReader(anyValue);
        if (r.TryReadTag(out int field, out int wt) && field == OtlpFields.AnyString && wt == WireType.LengthDelimited &&
            r.TryReadLengthDelimited(out value) && r.IsAtEnd)
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Reads a numeric <c>AnyValue</c> (double or int) as a double.</summary>
    public static bool TryGetNumber(ReadOnlySpan<byte> anyValue, out double value)
    {
        var r = new ProtoReader(anyValue);
        value = 0;
        if (!r.TryReadTag(out int field, out int wt))
        {
            return false;
        }

        if (field == OtlpFields.AnyDouble && wt == WireType.Fixed64)
        {
            return r.TryReadDouble(out value);
        }

        if (field == OtlpFields.AnyInt && wt == WireType.Varint && r.TryReadVarint(out ulong v))
        {
            value = (long)v;
            return true;
        }

        return false;
    }

    private static void Write(ReadOnlySpan<byte> s, ref byte[] buffer, ref int length)
    {
        Ensure(ref buffer, length + s.Length);
        s.CopyTo(buffer.AsSpan(length));
        length += s.Length;
    }

    private static void Ensure(ref byte[] buffer, int size)
    {
        if (buffer.Length < size)
        {
            Array.Resize(ref buffer, Math.Max(size, buffer.Length * 2));
        }
    }
}
