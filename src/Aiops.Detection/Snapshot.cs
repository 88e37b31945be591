namespace Aiops.Detection;

/// <summary>Helpers of the binary snapshot format: fixed-length arrays written with their length so a mismatch is caught on load.</summary>
internal static class Snapshot
{
    public static void WriteArray(BinaryWriter w, double[] values)
    {
        w.Write(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    public static void WriteArray(BinaryWriter w, float[] values)
    {
        w.Write(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    public static void ReadArray(BinaryReader r, double[] into, string field)
    {
        var n = r.ReadInt32();
        if (n != into.Length)
        {
            throw new InvalidDataException($"Snapshot field {field} has {n} values, the profile expects {into.Length}.");
        }

        for (var i = 0; i < n; i++)
        {
            into[i] = r.ReadDouble();
        }
    }

    public static void ReadArray(BinaryReader r, float[] into, string field)
    {
        var n = r.ReadInt32();
        if (n != into.Length)
        {
            throw new InvalidDataException($"Snapshot field {field} has {n} values, the profile expects {into.Length}.");
        }

        for (var i = 0; i < n; i++)
        {
            into[i] = r.ReadSingle();
        }
    }
}
