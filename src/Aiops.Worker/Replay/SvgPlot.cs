using System.Globalization;
using System.Text;
using Aiops.Core;
using Aiops.Worker.Processing;

namespace Aiops.Worker.Replay;

/// <summary>
/// A small hand-written SVG line plot: the series' values (blue), each anomaly's expected value
/// (green tick) and normal band (green bar) and observed value (red dot). SVG needs no native
/// graphics library, so the report renders on any machine.
/// </summary>
internal static class SvgPlot
{
    private const int Width = 800;
    private const int Height = 220;
    private const int Margin = 30;

    public static string Render(IReadOnlyList<MetricPoint> points, IReadOnlyList<AnomalyMessage> anomalies)
    {
        var times = points.Select(static p => p.TimestampMs).Concat(anomalies.Select(static a => a.TimestampMs)).ToList();
        var values = points.Select(static p => p.Value).Concat(anomalies.SelectMany(static a => new[] { a.Observed, a.Lower, a.Upper })).Where(double.IsFinite).ToList();
        if (times.Count == 0 || values.Count == 0)
        {
            return "<p>no data</p>";
        }

        double t0 = times.Min(), t1 = Math.Max(times.Max(), t0 + 1);
        double v0 = values.Min(), v1 = values.Max();
        if (v1 - v0 < 1e-12)
        {
            v1 = v0 + 1;
        }

        string X(double t) => (Margin + ((t - t0) / (t1 - t0) * (Width - (2 * Margin)))).ToString("0.#", CultureInfo.InvariantCulture);
        string Y(double v) => (Height - Margin - ((v - v0) / (v1 - v0) * (Height - (2 * Margin)))).ToString("0.#", CultureInfo.InvariantCulture);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{Height}\" fill=\"white\" stroke=\"#ccc\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"14\" font-size=\"11\">max {v1:G4}</text><text x=\"4\" y=\"{Height - 4}\" font-size=\"11\">min {v0:G4}</text>");
        if (points.Count > 1)
        {
            svg.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\" points=\"");
            foreach (var p in points)
            {
                svg.Append(X(p.TimestampMs)).Append(',').Append(Y(p.Value)).Append(' ');
            }

            svg.Append("\"/>");
        }

        foreach (var a in anomalies)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(a.TimestampMs)}\" x2=\"{X(a.TimestampMs)}\" y1=\"{Y(a.Lower)}\" y2=\"{Y(a.Upper)}\" stroke=\"#2ca02c\" stroke-width=\"3\" opacity=\"0.5\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(a.TimestampMs)}\" cy=\"{Y(a.Expected)}\" r=\"2\" fill=\"#2ca02c\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(a.TimestampMs)}\" cy=\"{Y(a.Observed)}\" r=\"3\" fill=\"#d62728\"/>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }
}
