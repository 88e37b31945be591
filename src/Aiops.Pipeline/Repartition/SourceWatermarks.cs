namespace Aiops.Pipeline.Repartition;

/// <summary>
/// The watermarks of a stage's sources: the stage's own watermark is their minimum, and it has
/// none until every expected source has sent one (a downstream stage must not close what a silent
/// source may still contribute to).
/// </summary>
internal sealed class SourceWatermarks
{
    private readonly Dictionary<int, long> _marks = [];
    private readonly int _expected;

    public SourceWatermarks(int expected)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(expected, 1);
        _expected = expected;
    }

    /// <summary>
    /// Takes one source's watermark (an older one than it sent before changes nothing) and returns
    /// the minimum over the sources, or <see cref="long.MinValue"/> while a source is missing.
    /// </summary>
    public long Update(int source, long timeMs)
    {
        if (!_marks.TryGetValue(source, out long mark) || timeMs > mark)
        {
            _marks[source] = timeMs;
        }

        if (_marks.Count < _expected)
        {
            return long.MinValue;
        }

        long min = long.MaxValue;
        foreach (long m in _marks.Values)
        {
            min = Math.Min(min, m);
        }

        return min;
    }

    /// <summary>Writes the expected count and each source's watermark, by source (a merge stage's checkpoint).</summary>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_expected);
        var sources = new List<int>(_marks.Keys);
        sources.Sort();
        writer.Write(sources.Count);
        foreach (int source in sources)
        {
            writer.Write(source);
            writer.Write(_marks[source]);
        }
    }

    /// <summary>Reads what <see cref="SaveState"/> wrote into these empty watermarks (same expected count).</summary>
    public void LoadState(BinaryReader reader)
    {
        int expected = reader.ReadInt32();
        if (expected != _expected)
        {
            throw new InvalidDataException($"The watermarks were saved for {expected} sources; this stage expects {_expected} (the input partition count changed).");
        }

        int n = Aiops.Topology.StateFraming.ReadCount(reader, 1 << 20, "source watermark");
        for (int i = 0; i < n; i++)
        {
            int source = reader.ReadInt32();
            _marks.Add(source, reader.ReadInt64());
        }
    }
}
