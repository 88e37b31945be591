using System.CommandLine;
using Aiops.Evaluation.Detectors;

namespace Aiops.Evaluation.Nab;

/// <summary>The <c>eval nab</c> subcommand.</summary>
internal static class NabCommand
{
    /// <summary>Builds <c>nab --data &lt;dir&gt; --out &lt;dir&gt; [--detector-name aiops] [--threads N] [--report file] [--reference null|oracle]</c>.</summary>
    public static Command Create(IDetectorFactory? detector)
    {
        var data = new Option<string>("--data")
        {
            Description = "NAB root folder (with data/, labels/combined_windows.json, config/profiles.json).",
            Required = true,
        };
        var output = new Option<string>("--out")
        {
            Description = "Output folder; results go to <out>/<detector>/<category>/<detector>_<file>.csv.",
            Required = true,
        };
        var name = new Option<string>("--detector-name")
        {
            Description = "Detector name in the results layout (no '_' or '.').",
            DefaultValueFactory = _ => "aiops",
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Files processed in parallel (default: all cores).",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var report = new Option<string?>("--report")
        {
            Description = "Also write the text report (scores and per-file contributions) to this file.",
        };
        var reference = new Option<NabReference>("--reference")
        {
            Description = "Score a reference detector instead of the product one, to check the scorer: Null (must give 0) or Oracle (reads the labels; must give 100).",
            DefaultValueFactory = _ => NabReference.None,
        };

        var scoreOnly = new Option<bool>("--score-only")
        {
            Description = "Run no detector: score the result files already under <out>/<detector-name>/ (e.g. a published NAB detector's), also at NAB's shipped thresholds.",
        };
        var profiles = EvalCommand.ProfilesOption();
        var command = new Command("nab", "Stream every NAB file through the detector online, write NAB result files and print NAB scores (standard, low-FP, low-FN).")
        {
            data, output, name, threads, report, reference, profiles, scoreOnly,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            var options = new NabRunOptions(
                parseResult.GetValue(data)!,
                parseResult.GetValue(output)!,
                parseResult.GetValue(name)!,
                Math.Max(1, parseResult.GetValue(threads)),
                parseResult.GetValue(reference),
                parseResult.GetValue(report),
                parseResult.GetValue(scoreOnly));
            try
            {
                var result = NabRunner.Run(options, EvalCommand.Resolve(detector, parseResult.GetValue(profiles)), cancellationToken);
                stdout.Write(result.Report);
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or UnauthorizedAccessException or System.Text.Json.JsonException or Aiops.Detection.ProfileValidationException)
            {
                stderr.WriteLine("eval nab: " + e.Message);
                return Task.FromResult(1);
            }
            catch (InvalidOperationException e)
            {
                // A detector failure is a bug to report in full, not an input problem.
                stderr.WriteLine("eval nab: " + e);
                return Task.FromResult(2);
            }
        });
        return command;
    }
}
