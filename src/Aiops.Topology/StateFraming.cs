using Aiops.Core;

namespace Aiops.Topology;

/// <summary>
/// Framing shared by the open-state sections of a checkpoint (span aggregator, ingest and merge
/// stages, exemplar store): each starts with its own magic and version and ends with the magic
/// inverted, so a foreign, newer, truncated or misaligned section is refused with a message that
/// names it instead of being read as garbage state.
/// </summary>
/// <remarks>Saving and loading are O(state) and off the hot path; nothing here runs per record.</remarks>
public static class StateFraming
{
    /// <summary>Writes a section's magic and version.</summary>
    public static void WriteHeader(BinaryWriter writer, uint magic, int version)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(magic);
        writer.Write(version);
    }

    /// <summary>Writes the end marker (the inverted magic) that <see cref="ReadEnd"/> checks.</summary>
    public static void WriteEnd(BinaryWriter writer, uint magic)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(~magic);
    }

    /// <summary>
    /// Reads a section written with <see cref="WriteHeader"/> … <see cref="WriteEnd"/>: checks the
    /// magic and version, runs <paramref name="body"/>, checks the end marker, and turns a short
    /// stream or an unreadable value into an <see cref="InvalidDataException"/> naming
    /// <paramref name="section"/>.
    /// </summary>
    public static void Read(BinaryReader reader, uint magic, int version, string section, Action<BinaryReader> body)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            uint found = reader.ReadUInt32();
            if (found != magic)
            {
                throw new InvalidDataException($"The {section} does not start with its magic 0x{magic:X8} (found 0x{found:X8}): not this section, or the sections before it were misread.");
            }

            int saved = reader.ReadInt32();
            if (saved != version)
            {
                throw new InvalidDataException($"The {section} has version {saved}; this build reads version {version}.");
            }

            body(reader);
            uint end = reader.ReadUInt32();
            if (end != ~magic)
            {
                throw new InvalidDataException($"The {section} does not end where its content does (corrupt or written by another layout).");
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"The {section} is truncated.", e);
        }
        catch (InvalidDataException e) when (!e.Message.Contains(section, StringComparison.Ordinal))
        {
            // A check inside the section (a count, a layout) or an inner section: say where it was.
            throw new InvalidDataException($"{e.Message} (in the {section})", e);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or IndexOutOfRangeException or KeyNotFoundException)
        {
            throw new InvalidDataException($"The {section} is corrupt: {e.Message}", e);
        }
    }

    /// <summary>Reads an element count and refuses a negative one or one above <paramref name="max"/>.</summary>
    public static int ReadCount(BinaryReader reader, int max, string what)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int n = reader.ReadInt32();
        if (n < 0 || n > max)
        {
            throw new InvalidDataException($"The saved {what} count {n} is outside [0, {max}].");
        }

        return n;
    }

    /// <summary>Writes a string that may be null (a presence flag, then the string).</summary>
    public static void WriteNullable(BinaryWriter writer, string? value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    /// <summary>Reads a string written by <see cref="WriteNullable"/>.</summary>
    public static string? ReadNullable(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return reader.ReadBoolean() ? reader.ReadString() : null;
    }

    /// <summary>Writes a list of strings (count, then each).</summary>
    public static void WriteStrings(BinaryWriter writer, IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(values);
        writer.Write(values.Count);
        foreach (string value in values)
        {
            writer.Write(value);
        }
    }

    /// <summary>Reads a list written by <see cref="WriteStrings"/>, refusing more than <paramref name="max"/> entries.</summary>
    public static string[] ReadStrings(BinaryReader reader, int max, string what)
    {
        int count = ReadCount(reader, max, what);
        var values = new string[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadString();
        }

        return values;
    }

    /// <summary>Writes a 128-bit trace id, high half first.</summary>
    public static void WriteId(BinaryWriter writer, UInt128 id)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write((ulong)(id >> 64));
        writer.Write((ulong)id);
    }

    /// <summary>Reads a trace id written by <see cref="WriteId"/>.</summary>
    public static UInt128 ReadId(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ulong high = reader.ReadUInt64();
        ulong low = reader.ReadUInt64();
        return new UInt128(high, low);
    }

    /// <summary>Writes a series key (service, metric, labels).</summary>
    public static void WriteSeries(BinaryWriter writer, SeriesKey series)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(series.Service);
        writer.Write(series.Metric);
        writer.Write(series.Labels);
    }

    /// <summary>Reads a series key written by <see cref="WriteSeries"/>.</summary>
    public static SeriesKey ReadSeries(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new SeriesKey(reader.ReadString(), reader.ReadString(), reader.ReadString());
    }
}
