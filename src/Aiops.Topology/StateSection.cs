namespace Aiops.Topology;

/// <summary>
/// The framing every open-state section of a checkpoint shares (<c>SaveState</c>/<c>LoadState</c>
/// of the correlator, the service graph and the pipeline stages): a magic (uint) and a version
/// (int) at its start, counts checked against the bytes left, and truncation reported as an
/// <see cref="InvalidDataException"/> naming the section, so a bad checkpoint says what is wrong
/// instead of surfacing as an <see cref="EndOfStreamException"/> deep in a reader.
/// </summary>
public static class StateSection
{
    /// <summary>Writes a section's magic and version.</summary>
    public static void WriteHeader(BinaryWriter writer, uint magic, int version)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(magic);
        writer.Write(version);
    }

    /// <summary>
    /// Reads and checks a section's magic and version; throws <see cref="InvalidDataException"/>
    /// naming <paramref name="section"/> and what was found when either differs.
    /// </summary>
    public static void ReadHeader(BinaryReader reader, uint magic, int version, string section)
    {
        ArgumentNullException.ThrowIfNull(reader);
        uint found = reader.ReadUInt32();
        if (found != magic)
        {
            throw new InvalidDataException($"Not a {section} state: magic 0x{found:X8}, expected 0x{magic:X8} (a checkpoint of another section or build?).");
        }

        int foundVersion = reader.ReadInt32();
        if (foundVersion != version)
        {
            throw new InvalidDataException($"{section} state version {foundVersion} is not supported (this build reads version {version}).");
        }
    }

    /// <summary>
    /// Reads a collection count and checks it is not negative and not more than the bytes left
    /// divided by <paramref name="minBytesPerItem"/>, so a corrupt count fails here instead of
    /// allocating gigabytes.
    /// </summary>
    public static int ReadCount(BinaryReader reader, string section, int minBytesPerItem = 1)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int count = reader.ReadInt32();
        var stream = reader.BaseStream;
        long left = stream.CanSeek ? stream.Length - stream.Position : long.MaxValue;
        if (count < 0 || (long)count * Math.Max(1, minBytesPerItem) > left)
        {
            throw new InvalidDataException($"{section} state claims {count} entries with {left} bytes left (corrupt or truncated).");
        }

        return count;
    }

    /// <summary>Writes a string that may be null, behind a presence byte.</summary>
    public static void WriteNullable(BinaryWriter writer, string? value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    /// <summary>Reads a string written by <see cref="WriteNullable(BinaryWriter, string?)"/>.</summary>
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

    /// <summary>Reads a list written by <see cref="WriteStrings"/>.</summary>
    public static string[] ReadStrings(BinaryReader reader, string section)
    {
        int count = ReadCount(reader, section);
        var values = new string[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadString();
        }

        return values;
    }

    /// <summary>
    /// Runs <paramref name="load"/> and turns a truncated or malformed read (end of stream, a bad
    /// UTF-8 length) into an <see cref="InvalidDataException"/> naming <paramref name="section"/>.
    /// </summary>
    public static void Load(string section, Action load)
    {
        ArgumentNullException.ThrowIfNull(load);
        try
        {
            load();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{section} state is truncated.", e);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{section} state is malformed: {e.Message}", e);
        }
    }
}
