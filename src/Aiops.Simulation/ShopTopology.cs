namespace Aiops.Simulation;

/// <summary>How a call leaves its caller.</summary>
internal enum CallKind : byte
{
    /// <summary>Synchronous RPC to an instrumented service: client span on the caller, server span on the callee.</summary>
    Rpc = 0,

    /// <summary>Query to the uninstrumented database: a client span only, with <c>db.system</c>.</summary>
    Database = 1,

    /// <summary>Publish to the uninstrumented queue: a producer span, then a consumer span on the subscriber.</summary>
    Publish = 2,
}

/// <summary>One instrumented service of the simulated shop.</summary>
/// <param name="Name">Resource <c>service.name</c>.</param>
/// <param name="Replicas">Number of replicas (<c>service.instance.id</c> = name-1 … name-N).</param>
/// <param name="Version">Resource <c>service.version</c> before any fault.</param>
/// <param name="SelfMs">Median of the service's own work per request, ms.</param>
/// <param name="BaseErrorRate">Share of requests failing without any fault.</param>
/// <param name="CpuPerRequestPerMinute">CPU fraction one request per minute costs one replica (load model).</param>
/// <param name="MemoryMb">Steady resident memory of a replica, MB.</param>
/// <param name="MemoryLimitMb">Container memory limit, MB (the leak heads toward it).</param>
internal sealed record ServiceSpec(
    string Name,
    int Replicas,
    string Version,
    double SelfMs,
    double BaseErrorRate,
    double CpuPerRequestPerMinute,
    double MemoryMb,
    double MemoryLimitMb)
{
    /// <summary>Replica names, created once so spans share the strings.</summary>
    public string[] Instances { get; } = Enumerable.Range(1, Replicas).Select(i => $"{Name}-{i}").ToArray();
}

/// <summary>One call in an operation's call tree.</summary>
/// <param name="Kind">How the call is made.</param>
/// <param name="Callee">The callee service, or the virtual node (<c>postgres</c>, <c>kafka</c>).</param>
/// <param name="Operation">Span name on the callee (and on the client span).</param>
/// <param name="Children">What the callee does while serving the call.</param>
/// <param name="ErrorPropagation">Probability that a failed call fails its caller too.</param>
internal sealed record CallNode(CallKind Kind, string Callee, string Operation, CallNode[] Children, double ErrorPropagation = 0.9);

/// <summary>A user-facing operation: entry span on the frontend and its share of traffic.</summary>
internal sealed record EntryOperation(string Name, double Share, CallNode[] Calls);

/// <summary>
/// The simulated online shop: 11 instrumented services with fan-out, a PostgreSQL database and a
/// Kafka queue as uninstrumented callees. The shape follows the OpenTelemetry demo shop (frontend,
/// checkout, cart, payment, shipping, currency, recommendation, product catalog, email, ad,
/// accounting); the numbers are ours, chosen so every service sees ≥ 20 requests per minute at
/// the default traffic, enough for a stable per-minute P95.
/// </summary>
internal static class ShopTopology
{
    /// <summary>Host name (<c>server.address</c>, <c>peer.service</c>) of the uninstrumented database.</summary>
    public const string Database = "postgres";

    /// <summary>Host name of the uninstrumented queue.</summary>
    public const string Queue = "kafka";

    /// <summary>
    /// Graph node of the database as the service graph names an uninstrumented database from its
    /// client spans: <c>db:</c> + <c>db.system</c> (topology's <c>RedMetrics.DatabasePrefix</c>).
    /// Ground truth names this node, so rankings can be compared by name.
    /// </summary>
    public const string DatabaseNode = "db:postgresql";

    /// <summary>Graph node of the queue: <c>queue:</c> + <c>messaging.system</c>.</summary>
    public const string QueueNode = "queue:kafka";

    /// <summary>The graph node name of a call's callee.</summary>
    public static string NodeOf(CallNode call) => call.Kind switch
    {
        CallKind.Database => DatabaseNode,
        CallKind.Publish => QueueNode,
        _ => call.Callee,
    };

    /// <summary>The entry service.</summary>
    public const string Frontend = "frontend";

    public static readonly ServiceSpec[] Services =
    [
        new(Frontend, 3, "2.3.1", 4.0, 0.0005, 0.004, 380, 1024),
        new("checkout", 2, "1.8.0", 6.0, 0.0005, 0.020, 300, 768),
        new("cart", 2, "1.4.2", 2.5, 0.0005, 0.006, 260, 768),
        new("payment", 2, "0.9.7", 9.0, 0.0010, 0.020, 220, 512),
        new("shipping", 2, "1.1.0", 3.0, 0.0005, 0.008, 200, 512),
        new("currency", 2, "1.2.5", 1.2, 0.0003, 0.003, 160, 512),
        new("recommendation", 2, "3.0.2", 8.0, 0.0005, 0.010, 420, 1024),
        new("product-catalog", 3, "2.0.4", 2.0, 0.0003, 0.004, 280, 768),
        new("email", 2, "1.0.3", 12.0, 0.0010, 0.020, 240, 512),
        new("ad", 2, "1.6.0", 3.5, 0.0005, 0.006, 300, 768),
        new("accounting", 2, "0.4.1", 3.0, 0.0005, 0.015, 210, 512),
    ];

    /// <summary>Median round trip of the network between two pods, ms.</summary>
    public const double NetworkMs = 0.6;

    /// <summary>Median query time of the database, ms.</summary>
    public const double DatabaseMs = 3.0;

    /// <summary>Median publish acknowledgement time of the queue, ms.</summary>
    public const double QueueMs = 2.0;

    private static CallNode Db(string statement) => new(CallKind.Database, Database, statement, []);

    private static CallNode Rpc(string callee, string operation, params CallNode[] children) =>
        new(CallKind.Rpc, callee, operation, children);

    private static CallNode ListProducts() => Rpc("product-catalog", "ListProducts", Db("SELECT products"));

    private static CallNode GetProduct() => Rpc("product-catalog", "GetProduct", Db("SELECT product"));

    private static CallNode Recommend() => Rpc("recommendation", "ListRecommendations", ListProducts());

    public static readonly EntryOperation[] Operations =
    [
        new("GET /", 0.30,
        [
            Rpc("currency", "GetSupportedCurrencies"),
            ListProducts(),
            Rpc("ad", "GetAds"),
            Recommend(),
        ]),
        new("GET /product", 0.33,
        [
            GetProduct(),
            Rpc("currency", "Convert"),
            Recommend(),
            Rpc("ad", "GetAds"),
        ]),
        new("GET /cart", 0.15,
        [
            Rpc("cart", "GetCart", Db("SELECT cart")),
            Rpc("shipping", "GetQuote"),
            Rpc("currency", "Convert"),
            Recommend(),
        ]),
        new("POST /cart", 0.12,
        [
            GetProduct(),
            Rpc("cart", "AddItem", Db("UPDATE cart")),
        ]),
        new("POST /checkout", 0.10,
        [
            Rpc("checkout", "PlaceOrder",
                Rpc("cart", "GetCart", Db("SELECT cart")),
                GetProduct(),
                Rpc("currency", "Convert"),
                Rpc("shipping", "GetQuote"),
                Rpc("payment", "Charge"),
                Rpc("shipping", "ShipOrder"),
                Rpc("email", "SendOrderConfirmation"),
                Rpc("cart", "EmptyCart", Db("DELETE cart")),
                new CallNode(CallKind.Publish, Queue, "orders publish",
                    [Rpc("accounting", "orders process", Db("INSERT order"))], ErrorPropagation: 0.0)),
        ]),
    ];

    /// <summary>Looks a service up by name; null for virtual nodes.</summary>
    public static ServiceSpec? Find(string name)
    {
        foreach (var service in Services)
        {
            if (string.Equals(service.Name, name, StringComparison.Ordinal))
            {
                return service;
            }
        }

        return null;
    }

    /// <summary>Every caller → callee edge of the call trees (the queue's consumer hangs off the queue).</summary>
    public static IReadOnlyList<(string Caller, string Callee)> Edges()
    {
        var edges = new List<(string, string)>();
        foreach (var operation in Operations)
        {
            foreach (var call in operation.Calls)
            {
                Collect(Frontend, call, edges);
            }
        }

        return edges;

        static void Collect(string caller, CallNode call, List<(string, string)> into)
        {
            var callee = NodeOf(call);
            if (!into.Contains((caller, callee)))
            {
                into.Add((caller, callee));
            }

            foreach (var child in call.Children)
            {
                Collect(callee, child, into);
            }
        }
    }

    /// <summary>The node and every transitive caller of it (the nodes a fault on it can affect), sorted.</summary>
    public static IReadOnlyList<string> AffectedBy(string node)
    {
        var edges = Edges();
        var affected = new SortedSet<string>(StringComparer.Ordinal) { node };
        var frontier = new Queue<string>();
        frontier.Enqueue(node);
        while (frontier.Count > 0)
        {
            var current = frontier.Dequeue();
            foreach (var (caller, callee) in edges)
            {
                // The queue decouples its consumer from the publisher: a slow consumer moves no caller.
                if (string.Equals(callee, current, StringComparison.Ordinal)
                    && !string.Equals(caller, QueueNode, StringComparison.Ordinal)
                    && affected.Add(caller))
                {
                    frontier.Enqueue(caller);
                }
            }
        }

        return [.. affected];
    }
}
