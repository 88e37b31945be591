using System.Globalization;
using Aiops.Core;

namespace Aiops.GenAI;

/// <summary>What the aggregator saw, for self-telemetry.</summary>
public sealed class GenAiCounters
{
    /// <summary>GenAI spans aggregated.</summary>
    public long Requests { get; internal set; }

    /// <summary>Spans arriving after their window was emitted (older than the allowed lateness).</summary>
    public long Late { get; internal set; }

    /// <summary>GenAI spans whose model has no price (no cost point for them).</summary>
    public long Unpriced { get; internal set; }

    /// <summary>Spans of new series dropped because <see cref="GenAiOptions.MaxSeries"/> was reached.</summary>
    public long SeriesLimited { get; internal set; }

    /// <summary>Attribute values that could not be parsed as numbers (tokens, time to first token).</summary>
    public long BadValues { get; internal set; }
}

/// <summary>
/// Turns spans that follow the OpenTelemetry GenAI semantic conventions into metric series, one
/// set per (service, model, prompt variant) and event-time window, so LLM regressions are
/// detected like any other series:
/// <list type="bullet">
/// <item><c>gen_ai.time_to_first_token.p95</c> (latency, ms; nearest-rank P95 of the window),</item>
/// <item><c>gen_ai.output_tokens_per_second</c> (throughput: output tokens over generation time,
/// i.e. duration minus time to first token),</item>
/// <item><c>gen_ai.cost_per_request</c> (USD, mean over priced requests, from <see cref="GenAiPriceTable"/>),</item>
/// <item><c>gen_ai.error_rate</c> (fraction of failed requests; <see cref="MetricPoint.Total"/> = requests),</item>
/// <item><c>gen_ai.requests_per_second</c>.</item>
/// </list>
/// Attributes read: <c>gen_ai.response.model</c> (else <c>gen_ai.request.model</c>),
/// <c>gen_ai.usage.input_tokens</c>, <c>gen_ai.usage.output_tokens</c>, the configured variant and
/// time-to-first-token attributes; a span is a GenAI span when it names a model or carries
/// <c>gen_ai.operation.name</c>. Points are stamped with the window's end. Time comes only from
/// the spans: a window is emitted once a span ends past its end plus the allowed lateness, or at
/// <see cref="Flush"/>. Buffers are reused across windows. Not thread-safe.
/// </summary>
public sealed class GenAiSignalAggregator
{
    private readonly GenAiOptions _options;
    private readonly GenAiPriceTable _prices;
    private readonly Dictionary<(string Service, string Model, string? Variant), Window> _windows = [];
    private readonly List<(string, string, string?)> _closing = [];
    private long _watermarkMs = long.MinValue;
    private long _lastSweepWindow = long.MinValue;

    /// <summary>Creates an aggregator; options are validated here.</summary>
    public GenAiSignalAggregator(GenAiOptions options, GenAiPriceTable prices)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(prices);
        options.Validate();
        _options = options;
        _prices = prices;
    }

    /// <summary>What has been aggregated so far.</summary>
    public GenAiCounters Counters { get; } = new();

    /// <summary>Per-request samples of every prompt variant, for the replay report's variant comparison.</summary>
    public PromptVariantStudy Variants { get; } = new();

    /// <summary>
    /// Adds one span (ignored unless it is a GenAI span) and appends to <paramref name="output"/>
    /// the points of every window that this span's event time closes.
    /// </summary>
    public void Add(in SpanRecord span, List<MetricPoint> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        string? model = null, requestModel = null, variant = null;
        bool isGenAi = false;
        long inputTokens = 0, outputTokens = 0;
        double ttftSeconds = double.NaN;
        var attributes = span.Attributes;
        for (int i = 0; i < attributes.Count; i++)
        {
            var a = attributes[i];
            switch (a.Key)
            {
                case "gen_ai.response.model": model = a.Value; isGenAi = true; break;
                case "gen_ai.request.model": requestModel = a.Value; isGenAi = true; break;
                case "gen_ai.operation.name": isGenAi = true; break;
                case "gen_ai.usage.input_tokens": inputTokens = ParseTokens(a.Value); break;
                case "gen_ai.usage.output_tokens": outputTokens = ParseTokens(a.Value); break;
                default:
                    if (a.Key == _options.VariantAttribute)
                    {
                        variant = a.Value;
                    }
                    else if (a.Key == _options.TimeToFirstTokenAttribute)
                    {
                        ttftSeconds = ParseSeconds(a.Value);
                    }

                    break;
            }
        }

        if (!isGenAi)
        {
            return;
        }

        model ??= requestModel ?? "unknown";
        long endMs = span.EndUnixNanos / 1_000_000;
        long windowStart = Math.DivRem(endMs, _options.WindowMs, out long rem) * _options.WindowMs - (rem < 0 ? _options.WindowMs : 0);
        var key = (span.Service, model, variant);
        if (!_windows.TryGetValue(key, out var window))
        {
            if (_windows.Count >= _options.MaxSeries)
            {
                Counters.SeriesLimited++;
                return;
            }

            window = new Window { Start = windowStart };
            _windows[key] = window;
        }
        else if (windowStart < window.Start || (window.Emitted && windowStart == window.Start))
        {
            Counters.Late++;
            return;
        }
        else if (windowStart > window.Start)
        {
            if (!window.Emitted)
            {
                Emit(key, window, output);
            }

            window.Reset(windowStart);
        }

        Counters.Requests++;
        window.Requests++;
        if (span.Status == SpanStatus.Error)
        {
            window.Errors++;
        }

        double cost = double.NaN;
        if (_prices.TryGetPrice(model, out var price))
        {
            cost = price.Cost(inputTokens, outputTokens);
            window.CostSum += cost;
            window.Priced++;
        }
        else
        {
            Counters.Unpriced++;
        }

        if (variant is not null)
        {
            Variants.Record(span.Service, model, variant, ttftSeconds * 1000.0, cost);
        }

        double durationSeconds = (span.EndUnixNanos - span.StartUnixNanos) / 1e9;
        if (!double.IsNaN(ttftSeconds))
        {
            window.TtftMs.Add(ttftSeconds * 1000.0);
        }

        double generation = !double.IsNaN(ttftSeconds) && ttftSeconds < durationSeconds ? durationSeconds - ttftSeconds : durationSeconds;
        if (outputTokens > 0 && generation > 0)
        {
            window.OutputTokens += outputTokens;
            window.GenerationSeconds += generation;
        }

        if (endMs > _watermarkMs)
        {
            _watermarkMs = endMs;
            Sweep(output);
        }
    }

    /// <summary>Emits every open window (end of a replay, or shutdown).</summary>
    public void Flush(List<MetricPoint> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var (key, window) in _windows)
        {
            if (!window.Emitted && window.Requests > 0)
            {
                Emit(key, window, output);
            }
        }
    }

    /// <summary>Emits windows whose end plus lateness the watermark has passed; runs once per window step.</summary>
    private void Sweep(List<MetricPoint> output)
    {
        long step = (_watermarkMs - _options.AllowedLatenessMs) / _options.WindowMs;
        if (step == _lastSweepWindow)
        {
            return;
        }

        _lastSweepWindow = step;
        foreach (var (key, window) in _windows)
        {
            if (!window.Emitted && window.Start + _options.WindowMs + _options.AllowedLatenessMs <= _watermarkMs)
            {
                _closing.Add(key);
            }
        }

        foreach (var key in _closing)
        {
            Emit(key, _windows[key], output);
        }

        _closing.Clear();
    }

    private void Emit((string Service, string Model, string? Variant) key, Window window, List<MetricPoint> output)
    {
        window.Emitted = true;
        if (window.Requests == 0)
        {
            return;
        }

        string labels = key.Variant is null
            ? "model=" + key.Model
            : "model=" + key.Model + ",variant=" + key.Variant;
        long ts = window.Start + _options.WindowMs;
        if (window.TtftMs.Count > 0)
        {
            window.TtftMs.Sort();
            // Nearest-rank percentile: the smallest value with at least 95% of the sample at or below it.
            int rank = (int)Math.Ceiling(0.95 * window.TtftMs.Count);
            output.Add(new MetricPoint(new SeriesKey(key.Service, "gen_ai.time_to_first_token.p95", labels), MetricKind.Latency, ts, window.TtftMs[rank - 1]));
        }

        if (window.GenerationSeconds > 0)
        {
            output.Add(new MetricPoint(new SeriesKey(key.Service, "gen_ai.output_tokens_per_second", labels), MetricKind.Throughput, ts, window.OutputTokens / window.GenerationSeconds));
        }

        if (window.Priced > 0)
        {
            output.Add(new MetricPoint(new SeriesKey(key.Service, "gen_ai.cost_per_request", labels), MetricKind.Generic, ts, window.CostSum / window.Priced));
        }

        output.Add(new MetricPoint(new SeriesKey(key.Service, "gen_ai.error_rate", labels), MetricKind.ErrorRate, ts, window.Errors / (double)window.Requests, window.Requests));
        output.Add(new MetricPoint(new SeriesKey(key.Service, "gen_ai.requests_per_second", labels), MetricKind.Throughput, ts, window.Requests / (_options.WindowMs / 1000.0)));
    }

    private long ParseTokens(string text)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            return value;
        }

        Counters.BadValues++;
        return 0;
    }

    private double ParseSeconds(string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= 0)
        {
            return value;
        }

        Counters.BadValues++;
        return double.NaN;
    }

    /// <summary>Accumulators of one series in its current window; reused when the window moves on.</summary>
    private sealed class Window
    {
        public long Start;
        public bool Emitted;
        public int Requests;
        public int Errors;
        public int Priced;
        public double CostSum;
        public long OutputTokens;
        public double GenerationSeconds;
        public readonly List<double> TtftMs = new(64);

        public void Reset(long start)
        {
            Start = start;
            Emitted = false;
            Requests = Errors = Priced = 0;
            CostSum = 0;
            OutputTokens = 0;
            GenerationSeconds = 0;
            TtftMs.Clear();
        }
    }
}
