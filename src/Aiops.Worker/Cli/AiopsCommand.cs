using System.CommandLine;
using Aiops.Worker.Hosting;

namespace Aiops.Worker.Cli;

/// <summary>The root of the command tree.</summary>
internal static class AiopsCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Aiops: streaming anomaly detection and root-cause ranking over OpenTelemetry metrics and traces from Kafka.")
        {
            RunCommand.Create(CoreServices.Register),
            DemoCommand.Create(),
            ReplayCommand.Create(),
            BenchCommand.Create(),
            ScaleBenchCommand.Create(),
            Aiops.Evaluation.EvalCommand.Create(),
        };
        return root;
    }
}
