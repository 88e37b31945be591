using System.Globalization;
using System.Text;
using Aiops.Worker.Processing;
using Aiops.Worker.Replay;

namespace Aiops.Worker.Tests;

public sealed class ReplayRunnerTests
{
    [Fact]
    public void AReplayedCpuStepOnOneServiceYieldsAnIncidentRankingItFirstAndAReportWithItsScores()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aiops-replay-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        const long Start = 1_767_571_200_000; // 2026-01-05 00:00 UTC, the simulator's origin.
        var random = new Random(3);
        var lines = new StringBuilder();
        for (var i = 0; i < 400; i++)
        {
            foreach (var instance in new[] { "pay-1", "pay-2" })
            {
                // A slow daily-like wave with 1 % noise; +0.6 CPU (a saturation step) from minute 300 to 320.
                var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) * 0.01;
                var value = 0.3 + (0.1 * Math.Sin(i / 30.0)) + noise + (i is >= 300 and < 320 ? 0.6 : 0);
                lines.Append(CultureInfo.InvariantCulture, $"{{\"type\":\"metric\",\"ts\":{Start + (i * 60_000L)},\"service\":\"payment\",\"metric\":\"process.cpu.utilization\",\"labels\":{{\"instance\":\"{instance}\"}},\"kind\":\"saturation\",\"value\":{value:R}}}\n");
            }
        }

        lines.Append("not json\n");
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), lines.ToString());
        File.WriteAllText(Path.Combine(dir, "ground_truth.json"), string.Create(CultureInfo.InvariantCulture,
            $"{{\"seed\":1,\"startMs\":{Start},\"endMs\":{Start + (400 * 60_000L)},\"faults\":[{{\"id\":\"f1\",\"kind\":\"cpu_saturation\",\"rootCause\":\"payment\",\"startMs\":{Start + (300 * 60_000L)},\"endMs\":{Start + (320 * 60_000L)}}}]}}"));
        var output = Path.Combine(dir, "out");

        Assert.Equal(0, ReplayRunner.Run(dir, output));

        var messages = File.ReadAllLines(Path.Combine(output, "incidents.jsonl")).Select(static l => IncidentJsonContext.FromUtf8(Encoding.UTF8.GetBytes(l))!).ToList();
        // Only one service exists, so every incident must name it first.
        Assert.Contains(messages, static m => m.Event == "open" && m.RootCauses.Count > 0 && m.RootCauses[0].Service == "payment");
        var report = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("AC@1 1.00", report, StringComparison.Ordinal);

        // The report names each flagged series and shows its PNG: the step was on both replicas'
        // CPU series, so at least one of them is plotted.
        Assert.Matches(@"<h3>payment/process\.cpu\.utilization\{instance=pay-[12]\}</h3>", report);
        var images = System.Text.RegularExpressions.Regex.Matches(report, "<img src=\"(plots/[0-9]+[.]png)\"");
        Assert.NotEmpty(images);
        foreach (System.Text.RegularExpressions.Match image in images)
        {
            var png = File.ReadAllBytes(Path.Combine(output, image.Groups[1].Value));
            AssertIsPlot(png);
        }
    }

    /// <summary>
    /// A real plot, not an empty or blank file: the PNG signature (RFC 2083 §3.1), an IHDR of
    /// <see cref="PngPlot.Width"/> × <see cref="PngPlot.Height"/>, more than 8 KB (this test's
    /// plots measured ~46 KB), and, decoded, pixels of the flagged-point red (#d62728: the marker
    /// and its legend swatch) and of the observed-line blue (#1f77b4: 1.5 px over 400 points).
    /// </summary>
    private static void AssertIsPlot(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(PngPlot.Width, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16, 4)));
        Assert.Equal(PngPlot.Height, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20, 4)));
        Assert.True(png.Length > 8_000, $"PNG of {png.Length} bytes is too small to hold a plot");
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        int red = 0, blue = 0;
        foreach (var pixel in bitmap.Pixels)
        {
            red += Near(pixel, 0xd6, 0x27, 0x28) ? 1 : 0;
            blue += Near(pixel, 0x1f, 0x77, 0xb4) ? 1 : 0;
        }

        Assert.True(red > 20, $"{red} flagged-red pixels");
        Assert.True(blue > 200, $"{blue} observed-blue pixels");

        static bool Near(SkiaSharp.SKColor c, byte r, byte g, byte b) => Math.Abs(c.Red - r) < 12 && Math.Abs(c.Green - g) < 12 && Math.Abs(c.Blue - b) < 12;
    }
}
