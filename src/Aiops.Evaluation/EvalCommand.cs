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
    /// <summary>Builds the <c>eval</c> command with all its subcommands.</summary>
    public static Command Create() => Create(ProductDetectorFactory.Instance);

    /// <summary>Builds the command group over a given detector (tests use small hand-made detectors).</summary>
    internal static Command Create(IDetectorFactory detector)
    {
        var eval = new Command("eval", "Measure the detection engine offline: NAB scores, gray-failure recall/precision.");

        // One line per subcommand: a new evaluation (e.g. root-cause ranking) adds its own here.
        eval.Subcommands.Add(NabCommand.Create(detector));
        eval.Subcommands.Add(GrayCommand.Create(detector));
        eval.Subcommands.Add(RcaCommand.Create());
        return eval;
    }
}
