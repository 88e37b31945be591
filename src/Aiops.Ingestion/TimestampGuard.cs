namespace Aiops.Ingestion;

/// <summary>
/// Rejects event times far in the future or past relative to the data itself: the newest
/// accepted timestamp is the watermark, and a point more than
/// <see cref="DecodeOptions.MaxAheadOfWatermarkMs"/> ahead of it or
/// <see cref="DecodeOptions.MaxBehindWatermarkMs"/> behind it is refused. Before the first point,
/// only the absolute sanity window applies. The wall clock is never read.
/// </summary>
internal sealed class TimestampGuard
{
    private readonly DecodeOptions _options;
    private long _watermark = long.MinValue;

    public TimestampGuard(DecodeOptions options) => _options = options;

    /// <summary>The newest accepted event time (Unix ms), or <see cref="long.MinValue"/> before any.</summary>
    public long WatermarkMs => _watermark;

    /// <summary>Returns null when <paramref name="timestampMs"/> is acceptable (and advances the watermark), else the reason.</summary>
    public string? Check(long timestampMs)
    {
        if (timestampMs < _options.MinTimestampMs || timestampMs > _options.MaxTimestampMs)
        {
            return $"timestamp {timestampMs} ms is outside the sanity window [{_options.MinTimestampMs}, {_options.MaxTimestampMs}] (years 2000..2100 by default; seconds or nanoseconds given as milliseconds?)";
        }

        if (_watermark != long.MinValue)
        {
            if (timestampMs > _watermark + _options.MaxAheadOfWatermarkMs)
            {
                return $"timestamp {timestampMs} ms is {timestampMs - _watermark} ms ahead of the newest event time {_watermark} (limit {_options.MaxAheadOfWatermarkMs} ms)";
            }

            if (timestampMs < _watermark - _options.MaxBehindWatermarkMs)
            {
                return $"timestamp {timestampMs} ms is {_watermark - timestampMs} ms behind the newest event time {_watermark} (limit {_options.MaxBehindWatermarkMs} ms)";
            }
        }

        if (timestampMs > _watermark)
        {
            _watermark = timestampMs;
        }

        return null;
    }
}
