using Aiops.Core;
using static Aiops.Topology.Tests.Spans;

namespace Aiops.Topology.Tests;

public class SloMonitorTests
{
    private const long Minute = 60_000;
    private static readonly long Base = Epoch - (Epoch % Minute); // minute-aligned

    private static SloMonitor Availability() => new(new SloOptions
    {
        Objectives = [new SloDefinition { Name = "checkout-availability", Service = "checkout", Objective = 0.999 }],
    });

    /// <summary>100 requests per minute for 60 min; in the last five minutes <paramref name="errorsPerMinute"/> fail.</summary>
    private static List<Anomaly> RunHour(SloMonitor monitor, int errorsPerMinute)
    {
        var alerts = new List<Anomaly>();
        ulong id = 1;
        for (int minute = 0; minute < 60; minute++)
        {
            for (int j = 0; j < 100; j++)
            {
                bool error = minute >= 55 && j < errorsPerMinute;
                monitor.Observe(Make("checkout", SpanKind.Server, id, id, 0, Base + (minute * Minute) + (j * 100), 20, error));
                id++;
            }

            alerts.AddRange(monitor.AdvanceTo(Base + ((minute + 1) * Minute) + 30_000));
        }

        return alerts;
    }

    [Fact]
    public void BurnRateIsTheBadFractionOverTheErrorBudget()
    {
        // 100 bad of 6,000 is 1/60; the budget of a 99.9% SLO is 0.001: 16.67x.
        Assert.Equal(100.0 / 6000 / 0.001, SloMonitor.BurnRate(100, 6000, 0.999), 9);
        Assert.Equal(0, SloMonitor.BurnRate(0, 0, 0.999));
    }

    [Fact]
    public void TheMostUrgentRuleFiresOnceBothOfItsWindowsBurnFastEnough()
    {
        // Hand computation, 20 errors/min from minute 55, objective 99.9% (budget 0.001):
        //  after minute 55: 1h = 20/5,600 → 3.57x, 5m = 20/500 → 40x; 6h/30m the same as 1h/(20/3,000=6.7x):
        //                   only 3d+6h at 1x fires (3.57 ≥ 1).
        //  after minute 56: 1h = 40/5,700 → 7.02x ≥ 6 and 30m = 40/3,000 → 13.3x: 6h+30m at 6x fires.
        //  after minute 57: 60/5,800 → 10.3x; 58: 80/5,900 → 13.6x (< 14.4): still the 6x rule.
        //  after minute 59: 1h = 100/6,000 → 16.67x ≥ 14.4 and 5m = 100/500 → 200x: 1h+5m at 14.4x fires.
        var alerts = RunHour(Availability(), errorsPerMinute: 20);

        Assert.Equal([1.0, 6, 6, 6, 14.4], alerts.Select(a => a.Upper).ToArray());
        Assert.Equal(Enumerable.Range(55, 5).Select(m => Base + (m * Minute)).ToArray(), alerts.Select(a => a.TimestampMs).ToArray());
        var page = alerts[^1];
        Assert.Equal(100.0 / 6000 / 0.001, page.Observed, 9);
        Assert.Equal(DetectorKind.BurnRate, page.Detector);
        Assert.Equal(new SeriesKey("checkout", SloMonitor.MetricName, "slo=checkout-availability"), page.Series);
        Assert.Equal(Base + (59 * Minute), page.SinceMs);
        Assert.Equal(Direction.Up, page.Direction);
        Assert.InRange(page.Score, 0.5, 1);
        Assert.Equal(Base + (56 * Minute), alerts[1].SinceMs); // the 6x rule has fired since minute 56
    }

    [Fact]
    public void ABurnBelowTheFastThresholdOnlyRaisesTheSlowerRules()
    {
        // 15 errors/min for 5 min: 1h = 75/6,000 → 12.5x < 14.4: the 6x rule (30m = 75/3,000 → 25x) holds.
        var alerts = RunHour(Availability(), errorsPerMinute: 15);
        Assert.DoesNotContain(alerts, a => a.Upper == 14.4);
        Assert.Equal(75.0 / 6000 / 0.001, alerts[^1].Observed, 9);
        Assert.Equal(6, alerts[^1].Upper);
    }

    [Fact]
    public void NoErrorsRaiseNoAlert()
    {
        Assert.Empty(RunHour(Availability(), errorsPerMinute: 0));
    }

    [Fact]
    public void ALatencySliCountsRequestsOverTheThresholdAsBad()
    {
        // 99% under 300 ms (budget 0.01), one rule 10m+5m at 2x, minute buckets.
        var monitor = new SloMonitor(new SloOptions
        {
            Objectives = [new SloDefinition { Name = "pay-fast", Service = "checkout", Operation = "POST /pay", Kind = SliKind.Latency, Objective = 0.99, LatencyThresholdMs = 300 }],
            Rules = [new BurnRateRule { LongWindowMs = 10 * Minute, ShortWindowMs = 5 * Minute, BurnRate = 2 }],
        });

        // 10 minutes × 50 requests: 2 per minute over 300 ms → 20/500 = 4% → 4x in both windows.
        // Spans of another operation, slow or not, do not count.
        ulong id = 1;
        var alerts = new List<Anomaly>();
        for (int minute = 0; minute < 10; minute++)
        {
            for (int j = 0; j < 50; j++)
            {
                monitor.Observe(Make("checkout", SpanKind.Server, id, id, 0, Base + (minute * Minute) + (j * 1000), j < 2 ? 450 : 120, name: "POST /pay"));
                monitor.Observe(Make("checkout", SpanKind.Server, id + 1, id + 1, 0, Base + (minute * Minute) + (j * 1000), 5_000, name: "GET /health"));
                id += 2;
            }

            alerts.AddRange(monitor.AdvanceTo(Base + ((minute + 1) * Minute) + 30_000));
        }

        Assert.Equal(10, alerts.Count);
        Assert.All(alerts, a => Assert.Equal(4.0, a.Observed, 9));
        Assert.Equal("operation=POST /pay,slo=pay-fast", alerts[0].Series.Labels);
    }

    [Fact]
    public void WindowsThatAreNotMultiplesOfTheBucketAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SloMonitor(new SloOptions
        {
            Rules = [new BurnRateRule { LongWindowMs = 90_000, ShortWindowMs = Minute, BurnRate = 2 }],
        }));
        Assert.Contains("multiples", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoObjectivesWithTheSameNameAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SloMonitor(new SloOptions
        {
            Objectives =
            [
                new SloDefinition { Name = "fast", Service = "checkout", Kind = SliKind.Latency, LatencyThresholdMs = 100 },
                new SloDefinition { Name = "fast", Service = "cart", Kind = SliKind.Latency, LatencyThresholdMs = 100 },
            ],
        }));
        Assert.Contains("fast is used twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SharesOfSeveralCountsOnlyMonitorsGiveExactlyTheAlertsOfOneMonitorFedEverySpan()
    {
        var workload = Workload();
        var single = new SloMonitor(SplitOptions());
        var singleAlerts = new List<Anomaly>();
        foreach (var (minute, spans) in workload)
        {
            foreach (var span in spans)
            {
                single.Observe(span);
            }

            single.AdvanceTo(TickAfter(minute), singleAlerts);
        }

        var split = new SplitMonitors();
        split.Run(workload, 0, workload.Count);
        split.Finish(TickAfter(workload.Count));
        single.AdvanceTo(TickAfter(workload.Count), singleAlerts);

        // The workload burns both rules of all three objectives at some point (see Workload).
        Assert.Equal(3, singleAlerts.Select(a => a.Series).Distinct().Count());
        Assert.Equal([2.0, 5.0], singleAlerts.Select(a => a.Upper).Distinct().Order().ToArray());
        Assert.Equal(singleAlerts.ConvertAll(Describe), split.Alerts.ConvertAll(Describe));
        Assert.Equal(single.LateSpans, split.Parts.Sum(p => p.LateSpans));
        Assert.True(single.LateSpans > 0);
        Assert.Equal(0, split.Whole.PendingShares);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(46)]
    [InlineData(51)]
    public void ASavedAndRestoredSplitContinuesExactlyAsTheUndisturbedOne(int cutMinute)
    {
        // The cut is in the middle of a minute's spans (an open bucket in every counts-only
        // monitor) and, as the whole monitor closes every 5 minutes only, with shares held there;
        // minutes 33 and 46 are while the objectives burn (a rule firing since an earlier bucket).
        var workload = Workload();
        var original = new SplitMonitors();
        original.Run(workload, 0, cutMinute);
        var (minute, spans) = workload[cutMinute];
        int half = spans.Count / 2;
        original.Observe(spans.GetRange(0, half));
        Assert.True(original.Whole.PendingShares > 0);

        var restored = new SplitMonitors();
        for (int p = 0; p < original.Parts.Length; p++)
        {
            restored.Parts[p].LoadState(Reader(Save(original.Parts[p])));
        }

        restored.Whole.LoadState(Reader(Save(original.Whole)));
        int before = original.Alerts.Count;

        foreach (var run in new[] { original, restored })
        {
            run.Observe(spans.GetRange(half, spans.Count - half));
            run.Advance(minute);
            run.Run(workload, cutMinute + 1, workload.Count);
            run.Finish(TickAfter(workload.Count));
        }

        Assert.NotEmpty(restored.Alerts);
        Assert.Equal(original.Alerts.Skip(before).Select(Describe), restored.Alerts.Select(Describe));
        for (int p = 0; p < original.Parts.Length; p++)
        {
            Assert.Equal(Save(original.Parts[p]), Save(restored.Parts[p]));
        }

        Assert.Equal(Save(original.Whole), Save(restored.Whole));
    }

    [Fact]
    public void ARedeliveredShareReplacesTheEarlierOneAndALateOrForeignOneIsDroppedAndCounted()
    {
        var monitor = new SloMonitor(new SloOptions
        {
            Objectives = [new SloDefinition { Name = "avail", Service = "checkout", Objective = 0.99 }],
            Rules = [new BurnRateRule { LongWindowMs = 2 * Minute, ShortWindowMs = Minute, BurnRate = 1 }],
        });

        // Source 0 sends 5 bad of 100 for the first bucket twice (a redelivery), source 1 sends 1 of 100.
        monitor.AddShare(0, new SloShare("checkout", "avail", Base, 5, 100));
        monitor.AddShare(0, new SloShare("checkout", "avail", Base, 5, 100));
        monitor.AddShare(1, new SloShare("checkout", "avail", Base, 1, 100));
        monitor.AddShare(1, new SloShare("cart", "avail", Base, 1, 100));      // another service
        monitor.AddShare(1, new SloShare("checkout", "other", Base, 1, 100));  // no such objective
        monitor.AddShare(1, new SloShare("checkout", "avail", Base, 7, 5));    // more bad than total
        monitor.AddShare(1, new SloShare("checkout", "avail", Base + 1, 1, 5)); // not a bucket start
        Assert.Equal(2, monitor.PendingShares);

        var alert = Assert.Single(monitor.AdvanceTo(Base + Minute + 30_000));

        // (5 + 1) / 200 = 3 % of a 1 % budget: 3x, not the 5.5x that adding the redelivery would give.
        Assert.Equal(3.0, alert.Observed, 9);
        Assert.Equal(4, monitor.RejectedShares);
        monitor.AddShare(2, new SloShare("checkout", "avail", Base, 50, 100));
        Assert.Equal(1, monitor.LateShares);
        Assert.Equal(0, monitor.PendingShares);
    }

    [Fact]
    public void ACountsOnlyMonitorHasNoWindowsAndAWindowsMonitorMakesNoShares()
    {
        var countsOnly = new SloMonitor(SplitOptions(), countsOnly: true);
        var windows = new SloMonitor(SplitOptions());

        Assert.Throws<InvalidOperationException>(() => countsOnly.AdvanceTo(Base));
        Assert.Throws<InvalidOperationException>(() => countsOnly.AddShare(0, new SloShare("checkout", "checkout-availability", Base, 1, 2)));
        Assert.Throws<InvalidOperationException>(() => windows.AdvanceTo(Base, new List<SloShare>()));
    }

    [Fact]
    public void ATruncatedForeignOrOtherwiseConfiguredStateIsRefusedWithAMessageNamingIt()
    {
        var split = new SplitMonitors();
        var workload = Workload();
        split.Run(workload, 0, 40);
        var bytes = Save(split.Whole);

        for (int cut = 0; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 97))
        {
            var e = Assert.Throws<InvalidDataException>(() => new SloMonitor(SplitOptions()).LoadState(Reader(bytes[..cut])));
            Assert.Contains("SLO monitor state", e.Message, StringComparison.Ordinal);
        }

        var foreign = (byte[])bytes.Clone();
        foreign[0] ^= 0xFF;
        Assert.Contains("Not an SLO monitor state", Assert.Throws<InvalidDataException>(() => new SloMonitor(SplitOptions()).LoadState(Reader(foreign))).Message, StringComparison.Ordinal);

        // A counts-only state into a windows monitor, and a state saved before an objective was added.
        Assert.Contains("counts-only", Assert.Throws<InvalidDataException>(() => new SloMonitor(SplitOptions()).LoadState(Reader(Save(split.Parts[0])))).Message, StringComparison.Ordinal);
        var changed = SplitOptions();
        changed.Objectives.Add(new SloDefinition { Name = "new", Service = "cart", Kind = SliKind.Availability });
        Assert.Contains("other SLO settings", Assert.Throws<InvalidDataException>(() => new SloMonitor(changed).LoadState(Reader(bytes))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASectionSavedUnderOtherSlosIsSkippedAndTheWindowsStartEmpty()
    {
        var split = new SplitMonitors();
        split.Run(Workload(), 0, 40);
        var section = new MemoryStream();
        using (var writer = new BinaryWriter(section, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            SloMonitor.SaveSection(writer, split.Whole);
            SloMonitor.SaveSection(writer, null);
            writer.Write(42); // what a stage writes after it must still be read
        }

        var changed = SplitOptions();
        changed.Objectives.RemoveAt(0);
        var monitor = new SloMonitor(changed);
        section.Position = 0;
        using var reader = new BinaryReader(section);

        Assert.False(SloMonitor.LoadSection(reader, monitor));
        Assert.False(SloMonitor.LoadSection(reader, monitor));
        Assert.Equal(42, reader.ReadInt32());
        Assert.Equal(Save(new SloMonitor(changed)), Save(monitor));
    }

    /// <summary>
    /// Two rules (10 min + 2 min at 5×, 30 min + 5 min at 2×) over 1-minute buckets with 30 s of
    /// lateness, and three objectives on two services, one of them per operation.
    /// </summary>
    private static SloOptions SplitOptions() => new()
    {
        Objectives =
        [
            new SloDefinition { Name = "checkout-availability", Service = "checkout", Objective = 0.99 },
            new SloDefinition { Name = "pay-latency", Service = "checkout", Operation = "POST /pay", Kind = SliKind.Latency, Objective = 0.95, LatencyThresholdMs = 300 },
            new SloDefinition { Name = "cart-availability", Service = "cart", Objective = 0.98 },
        ],
        Rules =
        [
            new BurnRateRule { LongWindowMs = 10 * Minute, ShortWindowMs = 2 * Minute, BurnRate = 5 },
            new BurnRateRule { LongWindowMs = 30 * Minute, ShortWindowMs = 5 * Minute, BurnRate = 2 },
        ],
    };

    private static long TickAfter(int minute) => Base + ((minute + 1) * Minute) + 30_000;

    /// <summary>
    /// 70 minutes, seeded: per minute 120 checkout spans (half <c>POST /pay</c>) and 60 cart spans
    /// at random offsets, about 1 in 20 arriving in the next minute (within the 30 s lateness) and
    /// 1 in 200 three minutes late (late everywhere). Minutes 25–45: 8 % of checkout requests fail
    /// (8× a 1 % budget) and a quarter of <c>POST /pay</c> takes 400 ms (5× a 5 % budget); minutes
    /// 30–50: 6 % of cart requests fail (3× a 2 % budget). Otherwise 0.2 % fail and 1 % are slow.
    /// </summary>
    private static List<(int Minute, List<SpanRecord> Spans)> Workload()
    {
        var random = new Random(7);
        var minutes = new List<(int, List<SpanRecord>)>();
        var carried = new List<SpanRecord>();
        ulong id = 1;
        for (int minute = 0; minute < 70; minute++)
        {
            var spans = new List<SpanRecord>(carried);
            carried.Clear();
            bool checkoutBurn = minute is >= 25 and < 45;
            bool cartBurn = minute is >= 30 and < 50;
            for (int j = 0; j < 180; j++)
            {
                bool cart = j >= 120;
                string name = cart ? "GetCart" : j % 2 == 0 ? "POST /pay" : "GET /checkout";
                double failRate = cart ? (cartBurn ? 0.06 : 0.002) : (checkoutBurn ? 0.08 : 0.002);
                double slowRate = !cart && checkoutBurn ? 0.25 : 0.01;
                long start = Base + (minute * Minute) + random.Next(0, 60_000);
                var span = Make(cart ? "cart" : "checkout", SpanKind.Server, id, id, 0, start, random.NextDouble() < slowRate ? 400 : 80, random.NextDouble() < failRate, name);
                id++;
                double r = random.NextDouble();
                if (r < 0.05 && minute + 1 < 70)
                {
                    carried.Add(span);
                }
                else if (r < 0.055 && minute >= 3)
                {
                    spans.Add(span with { StartUnixNanos = span.StartUnixNanos - (3 * Minute * 1_000_000), EndUnixNanos = span.EndUnixNanos - (3 * Minute * 1_000_000) });
                }
                else
                {
                    spans.Add(span);
                }
            }

            minutes.Add((minute, spans));
        }

        return minutes;
    }

    private static string Describe(Anomaly a) =>
        FormattableString.Invariant($"{a.Series}|{a.TimestampMs}|{a.SinceMs}|{a.Observed:R}|{a.Upper:R}|{a.Score:R}|{a.Detail}");

    private static byte[] Save(SloMonitor monitor)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            monitor.SaveState(writer);
        }

        return stream.ToArray();
    }

    private static BinaryReader Reader(byte[] bytes) => new(new MemoryStream(bytes));

    /// <summary>
    /// The split of a repartitioned pipeline: three counts-only monitors (spans by trace id) that
    /// close every minute, and the whole monitor that takes their shares and closes every 5 minutes.
    /// </summary>
    private sealed class SplitMonitors
    {
        private readonly List<SloShare> _shares = [];

        public SloMonitor[] Parts { get; } = [.. Enumerable.Range(0, 3).Select(_ => new SloMonitor(SplitOptions(), countsOnly: true))];

        public SloMonitor Whole { get; } = new(SplitOptions());

        public List<Anomaly> Alerts { get; } = [];

        public void Observe(IEnumerable<SpanRecord> spans)
        {
            foreach (var span in spans)
            {
                Parts[(int)(span.TraceId % 3)].Observe(span);
            }
        }

        public void Advance(int minute)
        {
            for (int p = 0; p < Parts.Length; p++)
            {
                _shares.Clear();
                Parts[p].AdvanceTo(TickAfter(minute), _shares);
                foreach (var share in _shares)
                {
                    Whole.AddShare(p, share);
                }
            }

            if (minute % 5 == 4)
            {
                Whole.AdvanceTo(TickAfter(minute), Alerts);
            }
        }

        public void Run(List<(int Minute, List<SpanRecord> Spans)> workload, int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                Observe(workload[i].Spans);
                Advance(workload[i].Minute);
            }
        }

        public void Finish(long eventTimeMs)
        {
            Advance((int)((eventTimeMs - Base - 30_000) / Minute) - 1);
            Whole.AdvanceTo(eventTimeMs, Alerts);
        }
    }
}
