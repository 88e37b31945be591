namespace Aiops.Core;

/// <summary>
/// One observation of a series at an event time. Time is the data's own (Unix milliseconds, UTC),
/// never the wall clock.
/// </summary>
/// <param name="Series">The series the point belongs to.</param>
/// <param name="Kind">What the series measures.</param>
/// <param name="TimestampMs">Event time, Unix milliseconds UTC.</param>
/// <param name="Value">The observed value.</param>
/// <param name="Total">
/// For <see cref="MetricKind.ErrorRate"/> points: the number of requests the fraction was computed
/// over, so a rate test can weigh 0.5% of 60,000 requests differently from 0.5% of 20. Zero when
/// the value is not a ratio.
/// </param>
public readonly record struct MetricPoint(SeriesKey Series, MetricKind Kind, long TimestampMs, double Value, double Total = 0);
