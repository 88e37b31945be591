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

    /// <summary>The sources' watermarks, sorted by source id (count, then source and mark each).</summary>
    public void SaveState(BinaryWriter writer)
    {
        var sources = new List<int>(_marks.Keys);
        sources.Sort();
        writer.Write(sources.Count);
        foreach (int source in sources)
        {
            writer.Write(source);
            writer.Write(_marks[source]);
        }
    }

    /// <summary>Loads watermarks written by <see cref="SaveState"/>; <paramref name="section"/> names the owner in errors.</summary>
    public void LoadState(BinaryReader reader, string section)
    {
        int count = Aiops.Topology.StateSection.ReadCount(reader, section, 12);
        for (int i = 0; i < count; i++)
        {
            int source = reader.ReadInt32();
            if (!_marks.TryAdd(source, reader.ReadInt64()))
            {
                throw new InvalidDataException($"{section} state repeats the watermark of source {source}.");
            }
        }
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
}
