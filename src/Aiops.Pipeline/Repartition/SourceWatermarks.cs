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
}
