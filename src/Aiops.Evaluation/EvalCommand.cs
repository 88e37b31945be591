using System.CommandLine;
using Aiops.Evaluation.Detectors;
using Aiops.Evaluation.Gray;
using Aiops.Evaluation.Nab;

namespace Aiops.Evaluation;

/// <summary>
/// The <c>eval</c> command group the <c>aiops</c> executable mounts: offline measurements of the
/// product's detection engine (<c>nab</c>: the Numenta Anomaly Benchmark; <c>gray</c>: synthetic
/// gray failures with known ground truth).
/// </summary>
public static class EvalCommand
{
    /// <summary>
    /// Builds the <c>eval</c> command with all its subcommands, running the product detector
    /// (<c>Aiops.Detection</c>) with the built-in profiles or those of <c>--profiles &lt;dir&gt;</c>.
    /// </summary>
    public static Command Create() => Create(null);

    /// <summary>Builds the command group; a non-null <paramref name="detector"/> replaces the product detector (tests).</summary>
    internal static Command Create(IDetectorFactory? detector)
    {
        var eval = new Command("eval", "Measure the detection engine offline: NAB scores, gray-failure recall/precision.");

        // One line per subcommand: a new evaluation (e.g. root-cause ranking) adds its own here.
        eval.Subcommands.Add(NabCommand.Create(detector));
        eval.Subcommands.Add(GrayCommand.Create(detector));
        eval.Subcommands.Add(RcaCommand.Create());
        return eval;
    }

    /// <summary>The <c>--profiles</c> option both detector evaluations share.</summary>
    internal static Option<string?> ProfilesOption() => new("--profiles")
    {
        Description = "Folder of detector profile JSON files (e.g. models/profiles); default: the built-in profiles.",
    };

    /// <summary>The detector to evaluate: the override if given, else the product detector with the chosen profiles.</summary>
    internal static IDetectorFactory Resolve(IDetectorFactory? detector, string? profiles) =>
        detector ?? ProductDetectorFactory.FromDirectory(profiles);
}
