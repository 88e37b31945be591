using Aiops.Core;

namespace Aiops.Benchmarks.Topology;

/// <summary>
/// Deterministic span workload for the topology benchmarks: an online shop of 12 services (3
/// replicas each), a database and a queue. Each trace is frontend → checkout → {cart, payment →
/// postgresql, shipping → kafka} plus a few internal calls, 11 spans, emitted child first (server
/// before its client parent) as exporters send spans when they end.
/// </summary>
internal static class TopologyWorkload
{
    public const long Start = 1_700_000_000_000;

    private static readonly string[] Operations = ["GET /", "GET /product", "POST /cart", "POST /checkout"];

    /// <summary><paramref name="traces"/> traces spread evenly over <paramref name="seconds"/> of event time.</summary>
    public static SpanRecord[] Shop(int traces, int seconds, int seed = 1)
    {
        var random = new Random(seed);
        var spans = new List<SpanRecord>(traces * 11);
        long stepNs = seconds * 1_000_000_000L / traces;
        for (int t = 0; t < traces; t++)
        {
            UInt128 trace = new((ulong)random.NextInt64(), (ulong)t + 1);
            long startNs = (Start * 1_000_000) + (t * stepNs);
            ulong next = 1;
            ulong root = next++;
            string op = Operations[t % Operations.Length];
            bool fail = random.Next(100) == 0;

            // frontend server (root) → client → checkout server
            ulong feClient = next++;
            ulong coServer = next++;
            ulong coCartClient = next++;
            ulong cartServer = next++;
            ulong coPayClient = next++;
            ulong payServer = next++;
            ulong payDb = next++;
            ulong coShipClient = next++;
            ulong shipServer = next++;
            ulong shipProduce = next++;

            long d = 1_000_000; // 1 ms in ns
            long jitter = random.Next(0, 20) * d;
            spans.Add(Span(trace, cartServer, coCartClient, "cart", SpanKind.Server, "GetCart", startNs + (3 * d), (4 * d) + jitter, false, random));
            spans.Add(Span(trace, coCartClient, coServer, "checkout", SpanKind.Client, "GetCart", startNs + (2 * d), (6 * d) + jitter, false, random));
            spans.Add(Span(trace, payDb, payServer, "payment", SpanKind.Client, "INSERT payments", startNs + (11 * d), 3 * d, fail, random, db: "postgresql"));
            spans.Add(Span(trace, payServer, coPayClient, "payment", SpanKind.Server, "Charge", startNs + (10 * d), (8 * d) + jitter, fail, random));
            spans.Add(Span(trace, coPayClient, coServer, "checkout", SpanKind.Client, "Charge", startNs + (9 * d), (10 * d) + jitter, fail, random));
            spans.Add(Span(trace, shipProduce, shipServer, "shipping", SpanKind.Producer, "orders publish", startNs + (22 * d), 1 * d, false, random, messaging: "kafka"));
            spans.Add(Span(trace, shipServer, coShipClient, "shipping", SpanKind.Server, "Quote", startNs + (21 * d), 3 * d, false, random));
            spans.Add(Span(trace, coShipClient, coServer, "checkout", SpanKind.Client, "Quote", startNs + (20 * d), 5 * d, false, random));
            spans.Add(Span(trace, coServer, feClient, "checkout", SpanKind.Server, "PlaceOrder", startNs + (1 * d), (26 * d) + jitter, fail, random));
            spans.Add(Span(trace, feClient, root, "frontend", SpanKind.Client, "PlaceOrder", startNs + (1 * d) - 100_000, (27 * d) + jitter, fail, random));
            spans.Add(Span(trace, root, 0, "frontend", SpanKind.Server, op, startNs, (28 * d) + jitter, fail, random));
        }

        return [.. spans];
    }

    private static readonly string[][] Instances = MakeInstances();

    private static string[][] MakeInstances()
    {
        string[] services = ["frontend", "checkout", "cart", "payment", "shipping"];
        var result = new string[services.Length][];
        for (int i = 0; i < services.Length; i++)
        {
            result[i] = [services[i] + "-0", services[i] + "-1", services[i] + "-2"];
        }

        return result;
    }

    private static SpanRecord Span(UInt128 trace, ulong id, ulong parent, string service, SpanKind kind, string name, long startNs, long durationNs, bool error, Random random, string? db = null, string? messaging = null)
    {
        int s = service switch { "frontend" => 0, "checkout" => 1, "cart" => 2, "payment" => 3, _ => 4 };
        return new SpanRecord
        {
            TraceId = trace,
            SpanId = id,
            ParentSpanId = parent,
            Service = service,
            ServiceInstance = Instances[s][random.Next(3)],
            ServiceVersion = "1.0.0",
            Name = name,
            Kind = kind,
            StartUnixNanos = startNs,
            EndUnixNanos = startNs + durationNs,
            Status = error ? SpanStatus.Error : SpanStatus.Ok,
            DbSystem = db,
            MessagingSystem = messaging,
        };
    }
}
