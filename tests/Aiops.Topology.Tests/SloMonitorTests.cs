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
}
