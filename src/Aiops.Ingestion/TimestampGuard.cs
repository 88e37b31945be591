namespace Aiops.Ingestion;

/// <summary>
/// Rejects event times far in the future or past relative to the data itself: the newest
/// accepted timestamp is the watermark, and a point more than
/// <see cref="DecodeOptions.MaxAheadOfWatermarkMs"/> ahead of it or
/// <see cref="DecodeOptions.MaxBehindWatermarkMs"/> behind it is refused. Before the first point,
/// only the absolute sanity window applies. A run of <see cref="DecodeOptions.AheadConfirmations"/>
/// mutually consistent far-ahead points re-anchors the watermark (the stream resumed after a gap),
/// so one bad point can never lock the decoder out of the rest of the stream. The wall clock is
/// never read.
/// </summary>
internal sealed class TimestampGuard
{
    private readonly DecodeOptions _options;
    private long _watermark = long.MinValue;
    private long _pending;
    private int _pendingCount;

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
                // Consecutive far-ahead points that agree with each other mean the stream resumed
                // after a gap: re-anchor instead of refusing everything from now on.
                if (_pendingCount > 0 && Math.Abs(timestampMs - _pending) <= _options.MaxAheadOfWatermarkMs)
                {
                    _pendingCount++;
                }
                else
                {
                    _pendingCount = 1;
                }

                _pending = timestampMs;
                if (_pendingCount < _options.AheadConfirmations)
                {
                    return $"timestamp {timestampMs} ms is {timestampMs - _watermark} ms ahead of the newest event time {_watermark} (limit {_options.MaxAheadOfWatermarkMs} ms)";
                }

                _pendingCount = 0;
                _watermark = timestampMs;
                return null;
            }

            if (timestampMs < _watermark - _options.MaxBehindWatermarkMs)
            {
                return $"timestamp {timestampMs} ms is {_watermark - timestampMs} ms behind the newest event time {_watermark} (limit {_options.MaxBehindWatermarkMs} ms)";
            }
        }

        _pendingCount = 0;
        if (timestampMs > _watermark)
        {
            _watermark = timestampMs;
        }

        return null;
    }
}
