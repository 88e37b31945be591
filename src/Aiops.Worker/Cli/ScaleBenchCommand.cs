using System.CommandLine;
using System.Globalization;
using Aiops.Worker.Scale;

namespace Aiops.Worker.Cli;

/// <summary><c>aiops scale-bench</c>: throughput for 1, 2, 3 instances in one group and memory at 100k / 1M series.</summary>
internal static class ScaleBenchCommand
{
    public static Command Create()
    {
        var instances = new Option<string>("--instances") { Description = "Comma-separated instance counts.", DefaultValueFactory = static _ => "1,2,3" };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the metrics topic.", DefaultValueFactory = static _ => 6 };
        var records = new Option<int>("--records-per-partition") { Description = "OTLP records per partition (keep under the mock cluster's 5 MiB per partition).", DefaultValueFactory = static _ => 600 };
        var points = new Option<int>("--points-per-record") { Description = "Gauge points per record.", DefaultValueFactory = static _ => 100 };
        var series = new Option<string>("--series") { Description = "Comma-separated distinct series counts for the memory table.", DefaultValueFactory = static _ => "100000,1000000" };
        var maxSeries = new Option<int>("--max-series") { Description = "Limits:MaxSeries of the memory table's pipelines.", DefaultValueFactory = static _ => 100_000 };
        var command = new Command("scale-bench", "Throughput with 1, 2, 3 worker instances in one consumer group on the embedded broker, and memory after 100k / 1M series through the series cap.")
        {
            instances, partitions, records, points, series, maxSeries,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new ScaleBenchSettings(
                Numbers(parse.GetValue(instances)),
                parse.GetValue(partitions),
                parse.GetValue(records),
                parse.GetValue(points),
                Numbers(parse.GetValue(series)),
                parse.GetValue(maxSeries));
            if (settings.Instances.Count == 0 || settings.Instances.Any(static n => n < 1) || settings.Partitions < 1 || settings.RecordsPerPartition < 1 || settings.PointsPerRecord < 1 || settings.MaxSeries < 1)
            {
                await Console.Error.WriteLineAsync("scale-bench: --instances, --partitions, --records-per-partition, --points-per-record and --max-series must be positive.").ConfigureAwait(false);
                return 2;
            }

            Console.WriteLine($"scale-bench on {Environment.ProcessorCount} cores, load average {LoadAverage()}");
            var throughput = await ScaleBench.MeasureThroughputAsync(settings, cancellationToken).ConfigureAwait(false);
            var memory = ScaleBench.MeasureMemory(settings);
            ScaleBench.Print(Console.Out, throughput, memory, settings.MaxSeries);
            return 0;
        });
        return command;
    }

    private static List<int> Numbers(string? text) =>
        [.. (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(static s => int.Parse(s, CultureInfo.InvariantCulture))];

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
