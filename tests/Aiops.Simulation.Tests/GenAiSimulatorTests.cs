using System.Globalization;
using Aiops.Core;
using Aiops.Simulation.GenAi;

namespace Aiops.Simulation.Tests;

public sealed class GenAiSimulatorTests
{
    private static string Attribute(in SpanRecord span, string key) => span.Attributes.First(a => a.Key == key).Value;

    private static double TtftMs(in SpanRecord span) => double.Parse(Attribute(span, "gen_ai.response.time_to_first_chunk"), CultureInfo.InvariantCulture) * 1000;

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    [Fact]
    public void EveryCallIsAClientSpanWithTheGenAiConventionAttributes()
    {
        var spans = new GenAiSimulator(new GenAiScenario { Minutes = 10 }).Spans();

        Assert.NotEmpty(spans);
        Assert.All(spans, s =>
        {
            Assert.Equal(SpanKind.Client, s.Kind);
            Assert.Equal("chat sim-large", s.Name); // "{gen_ai.operation.name} {gen_ai.request.model}"
            var keys = s.Attributes.Select(static a => a.Key).ToHashSet();
            Assert.Superset(
                new HashSet<string>
                {
                    "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model",
                    "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.response.time_to_first_chunk", "gen_ai.prompt.variant",
                },
                keys);
            Assert.True(s.DurationMs >= TtftMs(s) - 0.001, "a call lasts at least until its first token");
        });
        Assert.Equal(spans.Select(static s => s.EndUnixNanos).Order(), spans.Select(static s => s.EndUnixNanos)); // by end time
    }

    [Fact]
    public void TheSameSeedWritesTheSameSpans()
    {
        var a = new GenAiSimulator(new GenAiScenario { Minutes = 5 }).Spans();
        var b = new GenAiSimulator(new GenAiScenario { Minutes = 5 }).Spans();

        Assert.Equal(a.Select(static s => (s.SpanId, s.EndUnixNanos, TtftMs(s))), b.Select(static s => (s.SpanId, s.EndUnixNanos, TtftMs(s))));
    }

    [Fact]
    public void TheFewShotVariantIsSlowerAndUsesMoreTokensAndTheFaultMultipliesTheTimeToFirstToken()
    {
        var scenario = new GenAiScenario();
        var spans = new GenAiSimulator(scenario).Spans();
        var fault = scenario.Fault!;
        bool InFault(SpanRecord s) => s.StartUnixNanos / 1_000_000 >= fault.StartMs && s.StartUnixNanos / 1_000_000 < fault.EndMs;
        double MedianTtft(string variant, bool inFault) => Median(spans.Where(s => Attribute(s, "gen_ai.prompt.variant") == variant && InFault(s) == inFault).Select(static s => TtftMs(s)));

        // Scenario medians 350 ms and 500 ms; ~1,300 calls per variant outside the fault put the sample median within a few percent.
        Assert.InRange(MedianTtft("concise", false), 330, 370);
        Assert.InRange(MedianTtft("few-shot", false), 475, 525);
        // ×2.5 inside the fault window (about 200 calls per variant there: ±8 %).
        Assert.InRange(MedianTtft("few-shot", true) / MedianTtft("few-shot", false), 2.3, 2.7);
        var fewShotInput = spans.Where(s => Attribute(s, "gen_ai.prompt.variant") == "few-shot").Average(s => int.Parse(Attribute(s, "gen_ai.usage.input_tokens"), CultureInfo.InvariantCulture));
        Assert.InRange(fewShotInput, 1_750, 1_850); // mean 1,800 ± the 10 % uniform spread's standard error
        Assert.Equal("few-shot", GenAiGroundTruth.Of(scenario).WorseVariant);
    }

    [Fact]
    public void TheCommittedDatasetIsWhatTheGeneratorWrites()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "Aiops.sln")))
        {
            root = Path.GetDirectoryName(root);
        }

        Assert.True(root is not null, "the tests run inside the repository (Aiops.sln above the test binaries)");
        var committed = Path.Combine(root!, "datasets", "sim-genai-ttft");
        var fresh = Path.Combine(Path.GetTempPath(), "aiops-genai-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            int spans = GenAiDataset.Write(new GenAiScenario(), fresh);

            Assert.Equal(2_960, spans); // the committed spans.jsonl has 2,960 lines
            foreach (var file in new[] { "spans.jsonl", "ground_truth.json", GenAiGroundTruth.FileName })
            {
                Assert.True(File.ReadAllBytes(Path.Combine(committed, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(fresh, file))), file + " differs from a fresh generation");
            }
        }
        finally
        {
            Directory.Delete(fresh, recursive: true);
        }
    }
}
