using System.CommandLine;
using Aiops.Worker.Replay;

namespace Aiops.Worker.Cli;

/// <summary><c>aiops replay &lt;dataset&gt;</c>: a dataset directory through the pipeline in event time.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var dataset = new Argument<DirectoryInfo>("dataset") { Description = "Dataset directory: metrics.jsonl, spans.jsonl, *.otlp.json, *.pb, *.csv, optional ground_truth.json." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Output directory (default: results/replay/<dataset name>)." };
        var command = new Command("replay", "Replay a dataset through the same pipeline in event time; write incidents (JSON lines) and, with ground truth, an HTML report.") { dataset, output };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(dataset)!;
            if (!dir.Exists)
            {
                Console.Error.WriteLine($"Dataset directory '{dir.FullName}' does not exist.");
                return 2;
            }

            var outDir = parse.GetValue(output)?.FullName ?? Path.Combine("results", "replay", dir.Name);
            return ReplayRunner.Run(dir.FullName, outDir);
        });
        return command;
    }
}
