using Aiops.Core;

namespace Aiops.GenAI.Tests;

public sealed class GenAiSignalAggregatorTests
{
    // Window [T0, T0 + 60 s): T0 is a whole minute (1,700,000,040,000 ms = 28,333,334 × 60,000).
    private const long T0 = 1_700_000_040_000;

    private static readonly GenAiPriceTable Prices = new([new("sim-large", new ModelPrice(5.0, 15.0))]);

    private static SpanRecord Call(long endMs, double seconds, string model = "sim-large", string? variant = "A",
        long input = 1000, long output = 300, double? ttft = 0.5, bool error = false, string service = "assistant")
    {
        var attributes = new List<SpanAttribute> { new("gen_ai.request.model", model), new("gen_ai.usage.input_tokens", input.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("gen_ai.usage.output_tokens", output.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (variant is not null)
        {
            attributes.Add(new("gen_ai.prompt.variant", variant));
        }

        if (ttft is { } t)
        {
            attributes.Add(new("gen_ai.response.time_to_first_chunk", t.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        }

        long end = endMs * 1_000_000;
        return new SpanRecord
        {
            TraceId = 1,
            SpanId = (ulong)endMs,
            Service = service,
            Name = "chat " + model,
            Kind = SpanKind.Client,
            StartUnixNanos = end - (long)(seconds * 1e9),
            EndUnixNanos = end,
            Status = error ? SpanStatus.Error : SpanStatus.Unset,
            Attributes = attributes,
        };
    }

    private static GenAiSignalAggregator Aggregator() => new(new GenAiOptions(), Prices);

    private static double Value(List<MetricPoint> points, string metric, string labels = "model=sim-large,variant=A") =>
        Assert.Single(points, p => p.Series.Metric == metric && p.Series.Labels == labels).Value;

    [Fact]
    public void OneWindowYieldsHandComputedSignals()
    {
        var aggregator = Aggregator();
        var points = new List<MetricPoint>();

        aggregator.Add(Call(T0 + 10_000, seconds: 2.0, input: 1000, output: 300, ttft: 0.5), points);
        aggregator.Add(Call(T0 + 20_000, seconds: 3.0, input: 2000, output: 600, ttft: 1.0, error: true), points);
        aggregator.Flush(points);

        // P95 by nearest rank of {500, 1000} ms: rank ceil(0.95 × 2) = 2 → 1000 ms.
        Assert.Equal(1000, Value(points, "gen_ai.time_to_first_token.p95"));
        // (300 + 600) output tokens over (2.0 − 0.5) + (3.0 − 1.0) = 3.5 s of generation.
        Assert.Equal(900 / 3.5, Value(points, "gen_ai.output_tokens_per_second"), 9);
        // (1000 × 5 + 300 × 15) / 1e6 = 0.0095 USD and (2000 × 5 + 600 × 15) / 1e6 = 0.019 USD; mean 0.01425.
        Assert.Equal(0.01425, Value(points, "gen_ai.cost_per_request"), 12);
        // One failure in two requests; the total carries the request count.
        var errorRate = Assert.Single(points, p => p.Series.Metric == "gen_ai.error_rate");
        Assert.Equal(0.5, errorRate.Value);
        Assert.Equal(2, errorRate.Total);
        Assert.Equal(MetricKind.ErrorRate, errorRate.Kind);
        // 2 requests in a 60 s window.
        Assert.Equal(2 / 60.0, Value(points, "gen_ai.requests_per_second"), 12);
        // Every point is stamped with the window's end and belongs to the span's service.
        Assert.All(points, p => Assert.Equal(T0 + 60_000, p.TimestampMs));
        Assert.All(points, p => Assert.Equal("assistant", p.Series.Service));
    }

    [Fact]
    public void PromptVariantsAreSeparateSeries()
    {
        var aggregator = Aggregator();
        var points = new List<MetricPoint>();

        aggregator.Add(Call(T0 + 1_000, seconds: 1.0, variant: "A", ttft: 0.2), points);
        aggregator.Add(Call(T0 + 2_000, seconds: 1.0, variant: "B", ttft: 0.8), points);
        aggregator.Flush(points);

        Assert.Equal(200, Value(points, "gen_ai.time_to_first_token.p95", "model=sim-large,variant=A"));
        Assert.Equal(800, Value(points, "gen_ai.time_to_first_token.p95", "model=sim-large,variant=B"));
    }

    [Fact]
    public void AWindowIsEmittedOnceEventTimePassesItsEndPlusLateness()
    {
        var aggregator = Aggregator();
        var points = new List<MetricPoint>();
        aggregator.Add(Call(T0 + 1_000, seconds: 1.0), points);

        // 69 s after T0 is inside the 10 s lateness of the first window: nothing yet.
        aggregator.Add(Call(T0 + 69_000, seconds: 1.0, service: "other"), points);
        Assert.Empty(points);

        // 70 s closes it, without any Flush and without the wall clock.
        aggregator.Add(Call(T0 + 70_000, seconds: 1.0, service: "other"), points);
        Assert.All(points, p => Assert.Equal("assistant", p.Series.Service));
        Assert.Contains(points, p => p.Series.Metric == "gen_ai.error_rate");
    }

    [Fact]
    public void ASpanForAnEmittedWindowIsCountedLate()
    {
        var aggregator = Aggregator();
        var points = new List<MetricPoint>();
        aggregator.Add(Call(T0 + 1_000, seconds: 1.0), points);
        aggregator.Add(Call(T0 + 80_000, seconds: 1.0, service: "other"), points);

        aggregator.Add(Call(T0 + 2_000, seconds: 1.0), points);

        Assert.Equal(1, aggregator.Counters.Late);
    }

    [Fact]
    public void AModelWithoutAPriceHasNoCostPointButItsOtherSignals()
    {
        var aggregator = Aggregator();
        var points = new List<MetricPoint>();

        aggregator.Add(Call(T0 + 1_000, seconds: 1.0, model: "mystery"), points);
        aggregator.Flush(points);

        Assert.DoesNotContain(points, p => p.Series.Metric == "gen_ai.cost_per_request");
        Assert.Contains(points, p => p.Series.Metric == "gen_ai.error_rate" && p.Series.Labels == "model=mystery,variant=A");
        Assert.Equal(1, aggregator.Counters.Unpriced);
    }

    [Fact]
    public void SpansWithoutGenAiAttributesAreIgnored()
    {
        var aggregator = Aggregator();
        var points = new List<MetricPoint>();
        var plain = new SpanRecord { TraceId = 1, SpanId = 2, Service = "web", Name = "GET /", StartUnixNanos = T0 * 1_000_000, EndUnixNanos = (T0 + 5) * 1_000_000, Attributes = [new("http.route", "/")] };

        aggregator.Add(plain, points);
        aggregator.Flush(points);

        Assert.Empty(points);
        Assert.Equal(0, aggregator.Counters.Requests);
    }

    [Fact]
    public void UnparsableTokenCountsAreCountedNotThrown()
    {
        var aggregator = Aggregator();
        var points = new List<MetricPoint>();
        var span = Call(T0 + 1_000, seconds: 1.0) with
        {
            Attributes = [new("gen_ai.request.model", "sim-large"), new("gen_ai.usage.output_tokens", "many")],
        };

        aggregator.Add(span, points);

        Assert.Equal(1, aggregator.Counters.BadValues);
        Assert.Equal(1, aggregator.Counters.Requests);
    }

    [Fact]
    public void ABadOptionIsRejectedWithItsName()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new GenAiSignalAggregator(new GenAiOptions { WindowMs = 0 }, Prices));

        Assert.Contains("GenAI:WindowMs", ex.Message, StringComparison.Ordinal);
    }
}
