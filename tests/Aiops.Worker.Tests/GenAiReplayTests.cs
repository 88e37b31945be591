using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Aiops.Simulation.GenAi;
using Aiops.Worker.Demo;
using Aiops.Worker.Hosting;
using Aiops.Worker.Processing;
using Aiops.Worker.Replay;

namespace Aiops.Worker.Tests;

/// <summary>
/// The committed GenAI dataset (<c>datasets/sim-genai-ttft</c>: an assistant with a concise and a
/// few-shot prompt, a ×2.5 time-to-first-token regression from minute 110 to 130) through the
/// replay and through the Kafka worker.
/// </summary>
public sealed partial class GenAiReplayTests : IClassFixture<BrokerFixture>
{
    private readonly BrokerFixture _fixture;

    public GenAiReplayTests(BrokerFixture fixture) => _fixture = fixture;

    private static string Dataset()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "Aiops.sln")))
        {
            root = Path.GetDirectoryName(root);
        }

        Assert.True(root is not null, "the tests run inside the repository (Aiops.sln above the test binaries)");
        return Path.Combine(root!, "datasets", "sim-genai-ttft");
    }

    [GeneratedRegex(@"(?<signal>time_to_first_token_ms|cost_usd): (?<worse>[\w-]+) worse than (?<better>[\w-]+) by \+(?<pct>[0-9.]+) % \(median [^;]+; Mann–Whitney U z=[-0-9.]+, p=(?:<|&lt;)?(?<p>[0-9.eE+-]+),")]
    private static partial Regex Verdict();

    [Fact]
    public void TheReplayOpensOneIncidentForThePlantedRegressionAndItsReportNamesTheWorseVariant()
    {
        var dataset = Dataset();
        var truth = GenAiGroundTruth.Load(Path.Combine(dataset, GenAiGroundTruth.FileName));
        var fault = Assert.Single(truth.Faults);
        var output = Path.Combine(Path.GetTempPath(), "aiops-tests", "genai-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Assert.Equal(0, ReplayRunner.Run(dataset, output));

            var messages = File.ReadAllLines(Path.Combine(output, "incidents.jsonl")).Select(static l => IncidentJsonContext.FromUtf8(Encoding.UTF8.GetBytes(l))!).ToList();
            // Exactly one incident in the whole replay (no false one elsewhere), opened within the
            // fault window, on the assistant, from its time-to-first-token series.
            var id = Assert.Single(messages.Select(static m => m.IncidentId).Distinct());
            var matched = Assert.Single(GenAiReportSection.Match(truth, messages));
            Assert.Equal([id], matched.IncidentIds);
            var opened = messages.First(static m => m.Event == "open");
            Assert.Equal(truth.Service, opened.RootCauses[0].Service);
            Assert.Contains(opened.Anomalies, static a => a.Metric == "gen_ai.time_to_first_token.p95");

            var report = File.ReadAllText(Path.Combine(output, "report.html"));
            var verdicts = Verdict().Matches(report).ToDictionary(static m => m.Groups["signal"].Value);
            // (A p-value below 1e-300 is written "<1e-300"; the bound is what is parsed then.)
            foreach (var signal in new[] { "time_to_first_token_ms", "cost_usd" })
            {
                var v = verdicts[signal];
                Assert.Equal(truth.WorseVariant, v.Groups["worse"].Value);
                Assert.True(double.Parse(v.Groups["p"].Value, CultureInfo.InvariantCulture) < GenAiReportSection.Alpha, $"{signal}: p={v.Groups["p"].Value}");
            }

            // The scenario's TTFT medians are 500 vs 350 ms (+42.9 %), the fault slowing both alike;
            // cost per request at sim-large's $5 / $15 per million input / output tokens
            // (models/genai/prices.json): (1,800×5 + 240×15) / 10⁶ = $0.0126 vs (600×5 + 180×15) / 10⁶
            // = $0.0057, i.e. +121 %. The bands allow the sampling spread of ~1,480 calls per variant.
            Assert.InRange(double.Parse(verdicts["time_to_first_token_ms"].Groups["pct"].Value, CultureInfo.InvariantCulture), 35, 51);
            Assert.InRange(double.Parse(verdicts["cost_usd"].Groups["pct"].Value, CultureInfo.InvariantCulture), 105, 137);
            Assert.Contains("1: " + id, report, StringComparison.Ordinal); // the planted-fault table: one incident, this one
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    [Fact]
    public async Task TheSameSpansOnTheSpanTopicOpenTheIncidentThroughTheWorkersGenAiSignals()
    {
        var topics = new TestTopics(_fixture.Broker);
        await topics.CreateAsync();
        var lines = File.ReadAllLines(Path.Combine(Dataset(), "spans.jsonl"));
        await topics.ProduceAsync(topics.Spans, lines.Select(static l => Encoding.UTF8.GetBytes(l)));
        var settings = topics.Settings("JsonLines");
        settings["Checkpoint:Enabled"] = "false";
        var truth = GenAiGroundTruth.Load(Path.Combine(Dataset(), GenAiGroundTruth.FileName));

        using var watcher = new IncidentWatcher(_fixture.Broker.BootstrapServers, topics.Incidents);
        await using (var worker = await RunningWorker.StartAsync(settings, CoreServices.Register))
        {
            await Wait.UntilAsync(() => worker.Metrics.Records >= lines.Length && watcher.Messages.Count > 0,
                () => $"{lines.Length} records (read {worker.Metrics.Records}) and an incident ({watcher.Messages.Count} messages)", TimeSpan.FromSeconds(60));
        }

        // The stream ends 20 minutes after the fault, so the worker (no end-of-input flush) has
        // opened the incident; it came from the GenAI series, which only the GenAI feed produces.
        var matched = Assert.Single(GenAiReportSection.Match(truth, [.. watcher.Messages]));
        Assert.Single(matched.IncidentIds);
        Assert.Contains(watcher.Messages, static m => m.Anomalies.Any(static a => a.Metric == "gen_ai.time_to_first_token.p95"));
    }
}
