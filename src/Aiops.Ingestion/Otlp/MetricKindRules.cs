using Aiops.Core;

namespace Aiops.Ingestion.Otlp;

/// <summary>
/// Infers <see cref="MetricKind"/> and the unit conversion of an OTLP metric from its name, unit
/// and shape. The rules, first match wins:
/// <list type="number">
/// <item>Metric metadata <c>aiops.kind</c> (written by our encoder) names the kind exactly.</item>
/// <item>Unit <c>ms</c>, <c>s</c>, <c>us</c>/<c>μs</c>, <c>ns</c>, <c>min</c>, or a name containing
///   <c>duration</c>, <c>latency</c> or <c>response_time</c> → <see cref="MetricKind.Latency"/>; values are
///   converted to milliseconds (s ×1000, us ×0.001, ns ×1e-6, min ×60000; no unit: taken as ms).</item>
/// <item>A name containing <c>error</c> or <c>fail</c> together with <c>ratio</c>, <c>rate</c>,
///   <c>percent</c> or <c>fraction</c> → <see cref="MetricKind.ErrorRate"/> (unit <c>%</c> is divided by 100).</item>
/// <item>A monotonic sum, a histogram's count rate, or a unit ending in <c>/s</c> → <see cref="MetricKind.Throughput"/>.</item>
/// <item>A name containing <c>utilization</c>, <c>usage</c>, <c>saturation</c> or <c>queue</c>, or unit
///   <c>%</c> → <see cref="MetricKind.Saturation"/>.</item>
/// <item>Otherwise <see cref="MetricKind.Generic"/>.</item>
/// </list>
/// Substring tests are ordinal and case-insensitive. The result is cached per (name, unit).
/// </summary>
internal static class MetricKindRules
{
    /// <summary>Metric metadata key our encoder writes to carry the exact kind through OTLP.</summary>
    public const string KindMetadataKey = "aiops.kind";

    /// <summary>Data-point attribute our encoder writes to carry <see cref="MetricPoint.Total"/>; never a label.</summary>
    public const string TotalAttributeKey = "aiops.total";

    /// <summary>Infers the kind and the factor that converts values to the kind's unit.</summary>
    public static (MetricKind Kind, double Scale) Infer(string name, string unit, bool monotonicSum)
    {
        double timeScale = unit switch
        {
            "ms" => 1,
            "s" => 1000,
            "us" or "μs" => 1e-3,
            "ns" => 1e-6,
            "min" => 60_000,
            _ => double.NaN,
        };
        if (!double.IsNaN(timeScale))
        {
            return (MetricKind.Latency, timeScale);
        }

        if (Has(name, "duration") || Has(name, "latency") || Has(name, "response_time"))
        {
            return (MetricKind.Latency, 1);
        }

        if ((Has(name, "error") || Has(name, "fail")) &&
            (Has(name, "ratio") || Has(name, "rate") || Has(name, "percent") || Has(name, "fraction")))
        {
            return (MetricKind.ErrorRate, unit == "%" ? 0.01 : 1);
        }

        if (monotonicSum || unit.EndsWith("/s", StringComparison.Ordinal))
        {
            return (MetricKind.Throughput, 1);
        }

        if (Has(name, "utilization") || Has(name, "usage") || Has(name, "saturation") || Has(name, "queue") || unit == "%")
        {
            return (MetricKind.Saturation, 1);
        }

        return (MetricKind.Generic, 1);
    }

    /// <summary>Parses the <c>aiops.kind</c> metadata value (our JSON-lines spelling).</summary>
    public static bool TryParseKindName(ReadOnlySpan<byte> utf8, out MetricKind kind) =>
        JsonLines.JsonLineNames.TryParseKind(utf8, out kind);

    private static bool Has(string s, string part) => s.Contains(part, StringComparison.OrdinalIgnoreCase);
}
