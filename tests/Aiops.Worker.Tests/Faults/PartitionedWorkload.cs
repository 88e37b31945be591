using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Aiops.Worker.Hosting;
using Aiops.Worker.Kafka;
using Aiops.Worker.Processing;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aiops.Worker.Tests.Faults;

/// <summary>
/// Seeded metric data for the scale-out fault tests, with <c>Checkpoint:Scope=Partition</c>: series
/// <c>s</c> (service <c>svc-s</c>, metric <c>cpu</c>, one JSON line per minute) lives on partition
/// <c>s mod Partitions</c>; an hourly wave of amplitude <see cref="Wave"/> around 100 plus uniform
/// noise in [0, <see cref="Noise"/>) seeded by (series, minute), so a record's bytes depend on
/// nothing else, plus what <see cref="Fault"/> plants.
/// </summary>
internal sealed class PartitionedWorkload
{
    private const long T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

    public required int Partitions { get; init; }

    public required int Series { get; init; }

    /// <summary>Amplitude of the hourly wave.</summary>
    public double Wave { get; init; } = 10;

    /// <summary>Width of the uniform noise.</summary>
    public double Noise { get; init; } = 1;

    /// <summary>What is added to series s at minute m (0 for no fault).</summary>
    public required Func<int, int, double> Fault { get; init; }

    /// <summary><c>Checkpoint:Store</c>: <c>Directory</c> (files in the shared directory) or <c>Topic</c> (the compacted state topic).</summary>
    public string Store { get; init; } = nameof(Options.CheckpointStore.Directory);

    private List<byte[]> Records(int partition, int fromMinute, int toMinute)
    {
        var records = new List<byte[]>();
        for (var m = fromMinute; m < toMinute; m++)
        {
            for (var s = partition; s < Series; s += Partitions)
            {
                var noise = new Random((s * 100_000) + m).NextDouble();
                var value = 100 + (Wave * Math.Sin(2 * Math.PI * m / 60)) + (Noise * noise) + Fault(s, m);
                records.Add(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"type\":\"metric\",\"service\":\"svc-{s}\",\"metric\":\"cpu\",\"ts\":{T0 + (m * 60_000L)},\"value\":{value:R}}}")));
            }
        }

        return records;
    }

    /// <summary>Produces minutes [<paramref name="fromMinute"/>, <paramref name="toMinute"/>) of every series to its partition of the metrics topic.</summary>
    public void Produce(TestTopics topics, int fromMinute, int toMinute)
    {
        for (var p = 0; p < Partitions; p++)
        {
            topics.ProduceMany(topics.Metrics, Records(p, fromMinute, toMinute), firstPartition: p);
        }
    }

    /// <summary>
    /// The reference: minutes [0, <paramref name="minutes"/>) on fresh topics read by one worker
    /// that is never disturbed, stopped gracefully at the end.
    /// </summary>
    public async Task<UndisturbedRun> RunUndisturbedAsync(EmbeddedBroker broker, int minutes)
    {
        var topics = new TestTopics(broker);
        await topics.CreateAsync(Partitions);
        Produce(topics, 0, minutes);
        var ends = topics.EndOffsets(topics.Metrics, Partitions);
        await using var worker = await RunningWorker.StartAsync(await SettingsAsync(topics), CoreServices.Register);
        await CommittedToAsync(worker, topics, ends, "the undisturbed run to finish");
        await worker.StopAsync();
        return new UndisturbedRun(topics, ends, FinalStates(topics, worker, ends), worker.Metrics.Anomalies, worker.Metrics.IncidentEvents);
    }

    /// <summary>
    /// JSON lines, one state per partition saved at every batch in <see cref="Store"/>. For the
    /// topic store the state topic is created here (one partition per metrics partition), since
    /// the mock cluster answers no CreateTopics request.
    /// </summary>
    public async Task<Dictionary<string, string?>> SettingsAsync(TestTopics topics)
    {
        var settings = topics.Settings("JsonLines");
        settings["Checkpoint:Scope"] = "Partition";
        settings["Checkpoint:IntervalMs"] = "0";
        settings["Checkpoint:Store"] = Store;
        if (Store == nameof(Options.CheckpointStore.Topic))
        {
            var stateTopic = "state-" + topics.Group;
            await topics.Broker.CreateTopicsAsync([(stateTopic, Partitions)]);
            settings["Repartition:StateTopic"] = stateTopic;
            settings["Repartition:StatePartitions"] = Partitions.ToString(CultureInfo.InvariantCulture);
        }

        return settings;
    }

    /// <summary>Waits until <paramref name="worker"/> committed every metrics partition up to <paramref name="ends"/>.</summary>
    public static Task CommittedToAsync(RunningWorker worker, TestTopics topics, long[] ends, string what) =>
        Wait.UntilAsync(() => Enumerable.Range(0, ends.Length).All(p => worker.Metrics.CommittedOffsetOf(topics.Metrics, p) >= ends[p]), what);

    /// <summary>
    /// The state each metrics partition saved (checked to cover every record up to
    /// <paramref name="ends"/>), read back through <paramref name="worker"/>'s store (the file in
    /// the directory all instances share, or the state topic).
    /// </summary>
    public static byte[][] FinalStates(TestTopics topics, RunningWorker worker, long[] ends)
    {
        var states = worker.Services.GetService(typeof(PartitionStates)) as PartitionStates;
        Assert.NotNull(states);
        return [.. Enumerable.Range(0, ends.Length).Select(p =>
        {
            var saved = states.ReadSaved(new TopicPartition(topics.Metrics, p));
            Assert.NotNull(saved);
            Assert.Equal(ends[p], saved.Value.Next);
            return saved.Value.State;
        })];
    }

    /// <summary>
    /// The detectors' part of a partition state (every series' baseline, residuals and detector
    /// state, as <see cref="Aiops.Detection.DetectorRegistry.Save"/> writes it), without the
    /// pipeline's header, whose counters include incidents opened by the correlator.
    /// </summary>
    public static byte[] DetectorState(byte[] partitionState)
    {
        var pipeline = new Aiops.Pipeline.EventTimePipeline();
        using (var source = new MemoryStream(partitionState))
        {
            pipeline.RestoreSnapshot(source);
        }

        using var detectors = new MemoryStream();
        pipeline.Detectors.Save(detectors);
        return detectors.ToArray();
    }

    /// <summary>Asserts that every partition's state is byte-identical to the undisturbed run's.</summary>
    public static void AssertSameStates(byte[][] expected, byte[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var p = 0; p < expected.Length; p++)
        {
            var at = expected[p].AsSpan().CommonPrefixLength(actual[p]);
            Assert.True(expected[p].AsSpan().SequenceEqual(actual[p]), $"partition {p} state differs from the undisturbed run from byte {at} on ({expected[p].Length} vs {actual[p].Length} bytes)");
        }
    }
}

/// <summary>What the undisturbed run left: its topics, the end offsets, each partition's final state, and its counts of verdicts and incident events.</summary>
internal sealed record UndisturbedRun(TestTopics Topics, long[] Ends, byte[][] States, long Anomalies, long IncidentEvents);

/// <summary>The crash seam of a running worker (<see cref="StreamWorker.CrashHook"/>): a kill without shutdown, in-process.</summary>
internal static class Kill
{
    /// <summary>The worker's consume loop.</summary>
    public static StreamWorker LoopOf(RunningWorker worker) => worker.Services.GetServices<IHostedService>().OfType<StreamWorker>().Single();

    /// <summary>
    /// Makes the worker's loop end like a kill at the first <paramref name="point"/> where
    /// <paramref name="when"/> (given the batch's incident events) holds; the returned check tells whether it happened.
    /// </summary>
    public static Func<bool> At(RunningWorker worker, CrashPoint point, Func<int, bool> when)
    {
        var crashed = new StrongBox<bool>();
        LoopOf(worker).CrashHook = (at, incidents) =>
        {
            if (at == point && when(incidents))
            {
                Volatile.Write(ref crashed.Value, true);
            }

            return Volatile.Read(ref crashed.Value);
        };
        return () => Volatile.Read(ref crashed.Value);
    }
}
