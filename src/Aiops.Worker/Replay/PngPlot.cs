using Aiops.Core;
using Aiops.Detection;
using ScottPlot;

namespace Aiops.Worker.Replay;

/// <summary>What the detectors made of one point of a series: the input to a report plot.</summary>
internal readonly record struct SeriesSample(long TimestampMs, double Observed, double Expected, double Lower, double Upper, bool IsWarm, DetectorFlags Fired, double PValue, double Score);

/// <summary>
/// Keeps, per series, every point the pipeline's detectors scored with its baseline and band
/// (through <see cref="Aiops.Pipeline.EventTimePipeline.DetectionObserver"/>), so the report plots
/// exactly what the detectors saw, RED series derived from spans included. 64 bytes per point:
/// a day of one-minute points over 1,000 series is 92 MB, acceptable for an offline replay.
/// </summary>
internal sealed class SeriesRecorder
{
    private readonly Dictionary<SeriesKey, List<SeriesSample>> _series = [];

    /// <summary>The samples per series, in the order the detectors saw them.</summary>
    public IReadOnlyDictionary<SeriesKey, List<SeriesSample>> Series => _series;

    /// <summary>Records one scored point (the pipeline's observer).</summary>
    public void Record(MetricPoint point, DetectionResult result)
    {
        if (!_series.TryGetValue(point.Series, out var samples))
        {
            samples = [];
            _series.Add(point.Series, samples);
        }

        samples.Add(new SeriesSample(point.TimestampMs, point.Value, result.Expected, result.Lower, result.Upper, result.IsWarm, result.Fired, result.PValue, result.Score));
    }
}

/// <summary>
/// One PNG per flagged series, drawn with ScottPlot (SkiaSharp underneath; its Linux native
/// library ships in the <c>SkiaSharp.NativeAssets.Linux.NoDependencies</c> package, so it renders
/// headless without fontconfig or a display): the observed values (blue line), the detectors'
/// baseline (green line) and normal band (green fill) from the point the series was warm, and the
/// flagged points (red markers) with the anomaly verdicts the incidents carried.
/// </summary>
internal static class PngPlot
{
    /// <summary>900 × 300 px: readable in a report column at 100 % zoom, ~30-60 KB per plot.</summary>
    public const int Width = 900;

    /// <summary>Plot height in pixels.</summary>
    public const int Height = 300;

    /// <summary>Renders the plot and returns the PNG bytes; <paramref name="flagged"/> are the (time, observed) pairs marked red.</summary>
    public static byte[] Render(string title, IReadOnlyList<SeriesSample> samples, IReadOnlyList<(long TimestampMs, double Observed)> flagged)
    {
        using var plot = new Plot();
        plot.Title(title, size: 13);
        var warm = 0;
        foreach (var s in samples)
        {
            warm += s.IsWarm && double.IsFinite(s.Expected) && double.IsFinite(s.Lower) && double.IsFinite(s.Upper) ? 1 : 0;
        }

        if (warm > 1)
        {
            double[] xs = new double[warm], expected = new double[warm], lower = new double[warm], upper = new double[warm];
            var i = 0;
            foreach (var s in samples)
            {
                if (s.IsWarm && double.IsFinite(s.Expected) && double.IsFinite(s.Lower) && double.IsFinite(s.Upper))
                {
                    (xs[i], expected[i], lower[i], upper[i]) = (ToX(s.TimestampMs), s.Expected, s.Lower, s.Upper);
                    i++;
                }
            }

            var band = plot.Add.FillY(xs, lower, upper);
            band.FillStyle.Color = Color.FromHex("#2ca02c").WithAlpha(0.2);
            band.LineStyle.Width = 0;
            band.LegendText = "normal band";
            var baseline = plot.Add.ScatterLine(xs, expected, Color.FromHex("#2ca02c"));
            baseline.LineWidth = 1;
            baseline.LegendText = "baseline (expected)";
        }

        if (samples.Count > 0)
        {
            var xs = new double[samples.Count];
            var ys = new double[samples.Count];
            for (var i = 0; i < samples.Count; i++)
            {
                (xs[i], ys[i]) = (ToX(samples[i].TimestampMs), samples[i].Observed);
            }

            var observed = plot.Add.ScatterLine(xs, ys, Color.FromHex("#1f77b4"));
            observed.LineWidth = 1.5f;
            observed.LegendText = "observed";
        }

        if (flagged.Count > 0)
        {
            var xs = new double[flagged.Count];
            var ys = new double[flagged.Count];
            for (var i = 0; i < flagged.Count; i++)
            {
                (xs[i], ys[i]) = (ToX(flagged[i].TimestampMs), flagged[i].Observed);
            }

            var marks = plot.Add.ScatterPoints(xs, ys, Color.FromHex("#d62728"));
            marks.MarkerSize = 9;
            marks.LegendText = "flagged";
        }

        plot.Axes.DateTimeTicksBottom();
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Event time as the OLE automation date ScottPlot's date-time axis reads.</summary>
    private static double ToX(long timestampMs) => DateTimeOffset.FromUnixTimeMilliseconds(timestampMs).UtcDateTime.ToOADate();
}
