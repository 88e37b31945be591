using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aiops.Pipeline.Repartition;
using Aiops.Simulation;

namespace Aiops.Pipeline.Tests;

/// <summary>
/// Cut-restore-continue for stage C (<see cref="CorrelationStage.SaveState"/>): the records a
/// correlation stage receives in a seeded shop run with a slow database (graph facts, verdicts,
/// sustains, watermarks, recorded from stages A and B wired as in <see cref="EventTimePipeline"/>)
/// are fed to one stage; at a cut its state is loaded into a fresh stage, both take the rest,
/// and their incident events and final states must be identical.
/// </summary>
public sealed class CorrelationStageStateTests
{
    private const long Hour = 3_600_000;
    private const long Minute = 60_000;
    private const long Start = ScenarioOptions.DefaultStartMs + (8 * Hour);

    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Recorded once for the class: the simulation is the slow part (seconds), the replays are not.</summary>
    private static readonly Lazy<List<StageRecord>> Recorded = new(Record);

    /// <summary>
    /// The scenario of <see cref="EventTimePipelineTests"/>' slow database (seed 42, 3 h of warm-up,
    /// a 30-minute fault) with 40 minutes more after it, so the incident resolves inside the run.
    /// </summary>
    private static List<StageRecord> Record()
    {
        var scenario = new ScenarioOptions
        {
            Seed = 42,
            StartMs = Start,
            DurationMs = (3 * Hour) + (70 * Minute),
            Faults = [new FaultSpec("f1", FaultKind.SlowDatabase, ShopSimulator.DatabaseNode, Start + (3 * Hour), Start + (3 * Hour) + (30 * Minute))],
        };
        var options = new PipelineOptions();
        var recorder = new DetectionStageStateTests.RecordingSink();
        var detection = new DetectionStage(options, recorder, StageSources.Merge(0));
        var merge = new MergeStage(options, StageSources.Merge(0), sources: 1, detection, recorder);
        var ingest = new IngestStage(options, StageSources.Ingest(0, 0), detection, merge);
        foreach (var batch in new ShopSimulator(scenario).Batches())
        {
            foreach (var point in batch.Metrics)
            {
                ingest.AddMetric(point);
            }

            foreach (var span in batch.Spans)
            {
                ingest.AddSpan(span);
            }
        }

        ingest.AdvanceTo(ingest.WatermarkMs + options.BucketMs + options.AllowedLatenessMs + options.Correlator.OpenDelayMs);
        return recorder.Records;
    }

    private static List<string> Feed(CorrelationStage stage, List<StageRecord> records, int from, int to)
    {
        var events = new List<string>();
        for (int i = from; i < to; i++)
        {
            stage.Write(records[i]);
            if (records[i] is WatermarkRecord)
            {
                foreach (var e in stage.TakeEvents())
                {
                    events.Add(JsonSerializer.Serialize(e, JsonOptions));
                }
            }
        }

        return events;
    }

    private static byte[] Save(CorrelationStage stage)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            stage.SaveState(writer);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// The cut points: the record index after which the stage first holds records, the first
    /// incident's open, halfway between its open and its resolve, just before its resolve, and
    /// just after the first verdict arrives (held, not yet applied).
    /// </summary>
    private static Dictionary<string, int> Cuts()
    {
        var records = Recorded.Value;
        var stage = new CorrelationStage(new PipelineOptions(), sources: 1);
        int firstVerdict = records.FindIndex(static r => r is VerdictRecord);
        int open = -1, resolve = -1;
        for (int i = 0; i < records.Count; i++)
        {
            stage.Write(records[i]);
            foreach (var e in stage.TakeEvents())
            {
                if (e.Kind == IncidentEventKind.Open && open < 0)
                {
                    open = i + 1;
                }
                else if (e.Kind == IncidentEventKind.Resolve && resolve < 0)
                {
                    resolve = i + 1;
                }
            }
        }

        Assert.True(open > 0 && resolve > open, $"the run opens ({open}) and then resolves ({resolve}) an incident");
        return new()
        {
            ["warm-up"] = records.Count / 4,
            ["verdict held"] = firstVerdict + 1,
            ["incident opened"] = open,
            ["incident open"] = (open + resolve) / 2,
            ["before resolve"] = resolve - 1,
        };
    }

    [Theory]
    [InlineData("warm-up")]
    [InlineData("verdict held")]
    [InlineData("incident opened")]
    [InlineData("incident open")]
    [InlineData("before resolve")]
    public void AStageRestoredAtACutGivesTheEventsAndStateOfTheUndisturbedOne(string where)
    {
        var records = Recorded.Value;
        int cut = Cuts()[where];
        var original = new CorrelationStage(new PipelineOptions(), sources: 1);
        Feed(original, records, 0, cut);
        var state = Save(original);

        var restored = new CorrelationStage(new PipelineOptions(), sources: 1);
        using (var reader = new BinaryReader(new MemoryStream(state)))
        {
            restored.LoadState(reader);
            Assert.Equal(state.Length, reader.BaseStream.Position);
        }

        Assert.Equal(state, Save(restored));
        var expected = Feed(original, records, cut, records.Count);
        var actual = Feed(restored, records, cut, records.Count);

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
        Assert.Equal(Save(original), Save(restored));
        Assert.Equal(original.Incidents, restored.Incidents);
    }

    [Fact]
    public void EventsNotYetTakenAtTheCutAreInTheState()
    {
        // A checkpoint taken before TakeEvents: the restored stage hands out the same pending events.
        var records = Recorded.Value;
        int cut = Cuts()["incident opened"];
        var original = new CorrelationStage(new PipelineOptions(), sources: 1);
        foreach (var record in records.Take(cut))
        {
            original.Write(record);
        }

        var restored = new CorrelationStage(new PipelineOptions(), sources: 1);
        restored.LoadState(new BinaryReader(new MemoryStream(Save(original))));

        var pending = original.TakeEvents();
        Assert.NotEmpty(pending);
        Assert.Equal(pending.Select(static e => JsonSerializer.Serialize(e, JsonOptions)), restored.TakeEvents().Select(static e => JsonSerializer.Serialize(e, JsonOptions)));
    }

    [Fact]
    public void ATruncatedStateIsRefusedAndLeavesTheStageAsItWas()
    {
        var records = Recorded.Value;
        var original = new CorrelationStage(new PipelineOptions(), sources: 1);
        Feed(original, records, 0, Cuts()["incident open"]);
        var state = Save(original);
        var target = new CorrelationStage(new PipelineOptions(), sources: 1);
        var before = Save(target);

        foreach (int length in new[] { 6, state.Length / 3, state.Length - 3 })
        {
            var e = Assert.Throws<InvalidDataException>(() => target.LoadState(new BinaryReader(new MemoryStream(state[..length]))));
            Assert.Matches("correlation stage state|service graph state|incident correlator state", e.Message);
            Assert.Equal(before, Save(target));
        }
    }
}
