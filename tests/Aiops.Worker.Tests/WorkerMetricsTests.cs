using System.Text;
using Aiops.Worker.Telemetry;

namespace Aiops.Worker.Tests;

public sealed class WorkerMetricsTests
{
    private static string Render(WorkerMetrics metrics)
    {
        var text = new StringBuilder();
        metrics.WritePrometheus(text);
        return text.ToString();
    }

    [Fact]
    public void EveryMetricHasHelpAndTypeLinesBeforeItsSamples()
    {
        var metrics = new WorkerMetrics();
        metrics.RecordRead(isSpans: false);
        var lines = Render(metrics).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                declared.Add(line.Split(' ')[2]);
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            // A sample's family is its name up to '{' or ' ', without the histogram suffixes.
            var name = line[..line.IndexOfAny(['{', ' '])];
            var family = name.EndsWith("_bucket", StringComparison.Ordinal) ? name[..^7]
                : name.EndsWith("_sum", StringComparison.Ordinal) ? name[..^4]
                : name.EndsWith("_count", StringComparison.Ordinal) ? name[..^6]
                : name;
            Assert.Contains(family, declared);
        }
    }

    [Fact]
    public void CountersShowWhatWasRecordedWithDeadLettersLabelledByKind()
    {
        var metrics = new WorkerMetrics();
        metrics.RecordRead(isSpans: false);
        metrics.RecordRead(isSpans: true);
        metrics.RecordRead(isSpans: true);
        metrics.Decoded(points: 40, spans: 7);
        metrics.DeadLetter("truncated");
        metrics.DeadLetter("truncated");
        metrics.DeadLetter("bad \"json\"");

        var text = Render(metrics);

        Assert.Contains("aiops_records_total{signal=\"metrics\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_records_total{signal=\"spans\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_points_total 40\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_spans_total 7\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_dead_letters_total{kind=\"truncated\"} 2\n", text, StringComparison.Ordinal);
        // Quotes inside a label value are escaped with a backslash (exposition format 0.0.4).
        Assert.Contains("aiops_dead_letters_total{kind=\"bad \\\"json\\\"\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void HistogramBucketsAreCumulativeAndInfinityEqualsTheCount()
    {
        var metrics = new WorkerMetrics();
        metrics.ObserveBatch(TimeSpan.FromMilliseconds(0.5)); // ≤ 0.001
        metrics.ObserveBatch(TimeSpan.FromMilliseconds(30));  // ≤ 0.05
        metrics.ObserveBatch(TimeSpan.FromSeconds(60));       // above the last bound (10 s): only +Inf

        var text = Render(metrics);

        Assert.Contains("aiops_batch_processing_seconds_bucket{le=\"0.001\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_batch_processing_seconds_bucket{le=\"0.025\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_batch_processing_seconds_bucket{le=\"0.05\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_batch_processing_seconds_bucket{le=\"10\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_batch_processing_seconds_bucket{le=\"+Inf\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("aiops_batch_processing_seconds_count 3\n", text, StringComparison.Ordinal);
        // 0.0005 + 0.03 + 60 seconds.
        Assert.Contains("aiops_batch_processing_seconds_sum 60.0305\n", text, StringComparison.Ordinal);
    }
}
