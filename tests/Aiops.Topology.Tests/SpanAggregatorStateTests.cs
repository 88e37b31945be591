using System.Globalization;
using Aiops.Core;
using static Aiops.Topology.Tests.Spans;

namespace Aiops.Topology.Tests;

public class SpanAggregatorStateTests
{
    /// <summary>
    /// 10-s buckets, a 5-s pairing wait and a 60-s idle timeout keep the timeline short; the caps
    /// (3 operations, 3 instances) and the low-traffic window (5 requests over up to 3 buckets) are
    /// low so the workload crosses them.
    /// </summary>
    private static TopologyOptions Options() => new()
    {
        BucketWidthMs = 10_000,
        PairingWaitMs = 5_000,
        IdleTimeoutMs = 60_000,
        MaxOperationsPerService = 3,
        MaxInstancesPerService = 3,
        MinWindowRequests = 5,
        MaxWindowBuckets = 3,
        ExemplarRetentionBuckets = 4,
    };

    /// <summary>One input to the aggregator: a span, or a move of event time.</summary>
    private readonly record struct Step(SpanRecord? Span, long AdvanceMs);

    /// <summary>
    /// Seeded traffic over 8 minutes, in the order an exporter sends it (each span when it ends,
    /// with up to 3 s of jitter): client/server pairs that arrive either way round, database and
    /// queue calls, clients naming only a peer, servers whose client never comes, errors, five
    /// instances against a cap of three, a version roll-out half way, more operations than the cap,
    /// a service that stops after two minutes (so its node and series age out), and a move of event
    /// time every 2 s.
    /// </summary>
    private static List<Step> Workload(int seed)
    {
        var random = new Random(seed);
        var arrivals = new List<(long At, SpanRecord Span)>();
        string[] callers = ["frontend", "checkout", "cart"];
        string[] callees = ["payment", "shipping", "cart"];
        ulong nextSpan = 1;
        for (long t = Epoch; t < Epoch + 480_000; t += random.Next(20, 400))
        {
            var trace = (UInt128)(ulong)random.NextInt64(1, long.MaxValue) << 1 | 1;
            string caller = t < Epoch + 120_000 && random.Next(4) == 0 ? "batch" : callers[random.Next(callers.Length)];
            string instance = "i" + random.Next(5).ToString(CultureInfo.InvariantCulture);
            string version = t < Epoch + 240_000 ? "v1" : "v2";
            string op = "op" + random.Next(5).ToString(CultureInfo.InvariantCulture);
            double duration = 5 + (random.NextDouble() * random.Next(1, 200));
            bool error = random.Next(10) == 0;
            ulong client = nextSpan++;
            ulong server = nextSpan++;
            int shape = random.Next(20);
            if (shape < 12)
            {
                string callee = callees[random.Next(callees.Length)];
                arrivals.Add((t + (long)duration + random.Next(3_000), Make(caller, SpanKind.Client, trace, client, 0, t, duration, error, op, instance, version)));
                arrivals.Add((t + (long)duration + random.Next(3_000), Make(callee, SpanKind.Server, trace, server, client, t + 1, duration - 2, error, op, instance, version)));
            }
            else if (shape < 14)
            {
                arrivals.Add((t + (long)duration, Make(caller, SpanKind.Client, trace, client, 0, t, duration, error, "query", db: "postgresql")));
            }
            else if (shape < 15)
            {
                arrivals.Add((t + (long)duration, Make(caller, SpanKind.Client, trace, client, 0, t, duration, error, "call", peer: "ext-api")));
            }
            else if (shape < 16)
            {
                arrivals.Add((t + (long)duration, Make("shipping", SpanKind.Server, trace, server, 999_999, t, duration, error, op, instance)));
            }
            else if (shape < 17)
            {
                arrivals.Add((t + (long)duration, Make("cart", SpanKind.Producer, trace, client, 0, t, 2, false, "publish", messaging: "kafka")));
                arrivals.Add((t + (long)duration + 50, Make("shipping", SpanKind.Consumer, trace, server, client, t + 30, duration, error, "consume", messaging: "kafka")));
            }
            else
            {
                arrivals.Add((t + (long)duration, Make(caller, SpanKind.Server, trace, server, 0, t, duration, error, op, instance, version)));
            }
        }

        arrivals.Sort((a, b) => a.At.CompareTo(b.At));
        var steps = new List<Step>(arrivals.Count + 300);
        long nextAdvance = Epoch + 2_000;
        foreach (var (at, span) in arrivals)
        {
            while (at >= nextAdvance)
            {
                steps.Add(new Step(null, nextAdvance));
                nextAdvance += 2_000;
            }

            steps.Add(new Step(span, 0));
        }

        steps.Add(new Step(null, nextAdvance + 60_000));
        return steps;
    }

    /// <summary>Runs <paramref name="steps"/> from <paramref name="from"/> to before <paramref name="to"/> and writes every output (points, or partials and graph facts) as text.</summary>
    private static List<string> Run(SpanAggregator aggregator, List<Step> steps, int from, int to, bool partials)
    {
        var output = new List<string>();
        var points = new List<MetricPoint>();
        var shares = new List<RedPartial>();
        var facts = new List<GraphFact>();
        for (int i = from; i < to; i++)
        {
            if (steps[i].Span is { } span)
            {
                aggregator.Observe(span);
                continue;
            }

            if (partials)
            {
                shares.Clear();
                aggregator.AdvanceToPartials(steps[i].AdvanceMs, shares);
                shares.ForEach(p => output.Add(Describe(p)));
                facts.Clear();
                aggregator.DrainGraphFacts(facts);
                facts.ForEach(f => output.Add(f.ToString()));
            }
            else
            {
                points.Clear();
                aggregator.AdvanceTo(steps[i].AdvanceMs, points);
                foreach (var p in points)
                {
                    output.Add($"{p.Series}|{p.Kind}|{p.TimestampMs}|{p.Value:R}|{p.Total:R}|{string.Join('/', aggregator.GetExemplarTraceIds(p.Series, p.TimestampMs))}|{aggregator.WindowBucketsOf(p.Series)}");
                }
            }
        }

        var c = aggregator.Counters;
        output.Add($"counters {c.Spans} {c.Invalid} {c.Future} {c.Late} {c.Paired} {c.Virtual} {c.UnpairedClients} {c.UnpairedServers} {c.PendingOverflow} {c.Internal}");
        return output;
    }

    private static string Describe(RedPartial partial)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            partial.Write(writer);
        }

        return Convert.ToBase64String(buffer.ToArray());
    }

    private static byte[] Save(SpanAggregator aggregator)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            aggregator.SaveState(writer);
        }

        return buffer.ToArray();
    }

    private static SpanAggregator Load(byte[] state, bool partials, TopologyOptions? options = null)
    {
        var aggregator = new SpanAggregator(options ?? Options(), partials);
        using var reader = new BinaryReader(new MemoryStream(state));
        aggregator.LoadState(reader);
        Assert.Equal(state.Length, reader.BaseStream.Position);
        return aggregator;
    }

    [Theory]
    [InlineData(false, 0.02)]
    [InlineData(false, 0.25)]
    [InlineData(false, 0.5)]
    [InlineData(false, 0.9)]
    [InlineData(true, 0.1)]
    [InlineData(true, 0.5)]
    [InlineData(true, 0.75)]
    public void AnAggregatorRestoredAtACutGivesExactlyTheOutputOfTheUndisturbedOne(bool partials, double cutShare)
    {
        var steps = Workload(seed: 11);
        // A cut just after a span, not after a move of event time: spans wait for partners and buckets are open.
        int cut = (int)(steps.Count * cutShare);
        while (cut < steps.Count && steps[cut - 1].Span is null)
        {
            cut++;
        }

        var original = new SpanAggregator(Options(), partials);
        Run(original, steps, 0, cut, partials);
        byte[] state = Save(original);
        Assert.True(original.PendingSpans > 0, "the cut should leave spans waiting for their partner");

        var restored = Load(state, partials);
        Assert.Equal(state, Save(restored));

        var expected = Run(original, steps, cut, steps.Count, partials);
        var actual = Run(restored, steps, cut, steps.Count, partials);

        Assert.True(expected.Count > 100, $"only {expected.Count} outputs after the cut");
        Assert.Equal(expected, actual);
        Assert.Equal(Save(original), Save(restored));
    }

    [Fact]
    public void AStateSavedWithAnotherBucketWidthIsRefusedWithTheLayoutNamed()
    {
        var steps = Workload(seed: 3);
        var original = new SpanAggregator(Options(), partials: false);
        Run(original, steps, 0, 500, partials: false);
        byte[] state = Save(original);

        var other = Options();
        other.BucketWidthMs = 20_000;
        var e = Assert.Throws<InvalidDataException>(() => Load(state, partials: false, other));
        Assert.Contains("span aggregator state", e.Message, StringComparison.Ordinal);
        Assert.Contains("bucket 10000 ms", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATruncatedOrCorruptStateIsRefusedNamingTheSection()
    {
        var steps = Workload(seed: 5);
        var original = new SpanAggregator(Options(), partials: true);
        Run(original, steps, 0, 800, partials: true);
        byte[] state = Save(original);

        foreach (int length in new[] { 3, 40, state.Length / 2, state.Length - 1 })
        {
            var e = Assert.Throws<InvalidDataException>(() => Load(state[..length], partials: true));
            Assert.Contains("span aggregator state", e.Message, StringComparison.Ordinal);
        }

        var foreign = (byte[])state.Clone();
        foreign[0] ^= 0xFF;
        var magic = Assert.Throws<InvalidDataException>(() => Load(foreign, partials: true));
        Assert.Contains("span aggregator state", magic.Message, StringComparison.Ordinal);

        // The last byte belongs to the end marker: a section read to a different length fails there.
        var tail = (byte[])state.Clone();
        tail[^1] ^= 0x01;
        var end = Assert.Throws<InvalidDataException>(() => Load(tail, partials: true));
        Assert.Contains("does not end", end.Message, StringComparison.Ordinal);
    }
}
