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
        Assert.Contains("<svg", report, StringComparison.Ordinal);
    }
}
