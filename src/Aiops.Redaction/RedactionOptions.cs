namespace Aiops.Redaction;

/// <summary>
/// What the <see cref="Redactor"/> lets out of the process. Bound from the <c>Redaction</c>
/// configuration section by the worker. Two independent layers: an allow-list of attribute keys
/// (a value whose key is not allowed is replaced by <see cref="Marker"/> whatever it contains),
/// and pattern masking of every value and free text that does get out (an allowed key can still
/// carry an e-mail address in an error message).
/// </summary>
public sealed class RedactionOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Redaction";

    /// <summary>
    /// The default allow-list: OpenTelemetry semantic-convention keys whose values describe the
    /// system, not a person (methods, routes, status codes, system names, model names, token
    /// counts). Entries ending in <c>.*</c> allow every key under that prefix.
    /// </summary>
    public static IReadOnlyList<string> DefaultAllowedKeys { get; } =
    [
        "service.name", "service.namespace", "service.version", "service.instance.id",
        "deployment.environment", "deployment.environment.name",
        "host.name", "host.arch", "os.type", "k8s.namespace.name", "k8s.pod.name", "k8s.deployment.name",
        "k8s.node.name", "container.name", "cloud.provider", "cloud.region", "cloud.availability_zone",
        "telemetry.sdk.name", "telemetry.sdk.language", "telemetry.sdk.version",
        "span.kind", "otel.status_code", "otel.status_description", "error", "error.type",
        "exception.type", "exception.message",
        "http.method", "http.request.method", "http.route", "http.status_code", "http.response.status_code",
        "http.scheme", "url.scheme", "network.protocol.name", "network.protocol.version",
        "server.address", "server.port", "net.peer.name", "net.peer.port", "peer.service",
        "rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code",
        "db.system", "db.system.name", "db.name", "db.namespace", "db.operation", "db.operation.name",
        "db.collection.name", "db.sql.table",
        "messaging.system", "messaging.operation", "messaging.operation.name", "messaging.destination.name",
        "messaging.kafka.consumer.group", "messaging.consumer.group.name",
        "gen_ai.system", "gen_ai.provider.name", "gen_ai.operation.name", "gen_ai.request.model",
        "gen_ai.response.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
        "gen_ai.request.max_tokens", "gen_ai.request.temperature", "gen_ai.response.finish_reasons",
        "gen_ai.server.time_to_first_token", "gen_ai.response.time_to_first_chunk", "gen_ai.prompt.variant",
        "route", "method", "status", "status_code", "code", "le", "quantile",
        // Labels the pipeline itself derives from spans (RED series, GenAI series): operation = span
        // name, instance = service.instance.id, callee = graph node, model / variant = GenAI keys,
        // slo = the name of a configured SLO (its burn-rate series).
        "operation", "instance", "callee", "model", "variant", "slo",
    ];

    /// <summary>
    /// Keys that are always replaced by <see cref="Marker"/>, even when the allow-list (or one of
    /// its <c>prefix.*</c> entries) would let them through: headers and fields that carry
    /// credentials by definition. Matching is case-insensitive and on the last dotted segment too,
    /// so <c>http.request.header.authorization</c> is caught by <c>authorization</c>.
    /// </summary>
    public static IReadOnlyList<string> DefaultDeniedKeys { get; } =
    [
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey",
        "password", "passwd", "secret", "token", "access_token", "refresh_token", "client_secret",
    ];

    /// <summary>Attribute keys whose values may leave the process (after pattern masking).</summary>
    public IList<string> AllowedKeys { get; set; } = [.. DefaultAllowedKeys];

    /// <summary>Keys that never leave the process, whatever <see cref="AllowedKeys"/> says.</summary>
    public IList<string> DeniedKeys { get; set; } = [.. DefaultDeniedKeys];

    /// <summary>
    /// Names of JSON members whose object value is a bag of attributes (key → value): inside
    /// those, the allow-list applies to every member. Elsewhere in a JSON document only pattern
    /// masking applies, so the structure of an incident (<c>id</c>, <c>service</c>, …) survives.
    /// </summary>
    public IList<string> AttributeObjectNames { get; set; } = ["attributes", "labels", "tags", "resource", "headers"];

    /// <summary>Replacement of a value whose key is not allowed.</summary>
    public string Marker { get; set; } = "[REDACTED]";

    /// <summary>Mask e-mail addresses (replacement <c>[EMAIL]</c>).</summary>
    public bool MaskEmails { get; set; } = true;

    /// <summary>Mask IPv4 and IPv6 addresses (replacement <c>[IP]</c>).</summary>
    public bool MaskIpAddresses { get; set; } = true;

    /// <summary>Mask bearer/basic credentials, <c>Authorization:</c> values and <c>key=secret</c> pairs (replacement <c>[TOKEN]</c>).</summary>
    public bool MaskCredentials { get; set; } = true;

    /// <summary>Mask JSON Web Tokens (replacement <c>[JWT]</c>).</summary>
    public bool MaskJwts { get; set; } = true;

    /// <summary>Mask payment card numbers that pass the Luhn check (replacement <c>[CARD]</c>).</summary>
    public bool MaskCardNumbers { get; set; } = true;

    /// <summary>
    /// What a dead letter carries: <see cref="DeadLetterPayloadMode.Redacted"/> by default, so the
    /// dead-letter topic (read by whoever debugs the pipeline, often a wider audience than the
    /// telemetry topics) holds no more personal data than an incident does.
    /// </summary>
    public DeadLetterPayloadMode DeadLetterPayload { get; set; } = DeadLetterPayloadMode.Redacted;

    /// <summary>Extra patterns from configuration, applied after the built-in ones.</summary>
    public IList<CustomRedactionPattern> CustomPatterns { get; set; } = [];

    /// <summary>
    /// Match timeout of each custom pattern, milliseconds. A pattern that times out on a value
    /// makes the whole value the <see cref="Marker"/>: failing closed is the only safe choice for
    /// text that may hold what the pattern was meant to find. 200 ms is ~10,000 times the cost of
    /// a normal match on a 1 KiB value, so only a catastrophic backtrack reaches it.
    /// </summary>
    public int CustomPatternTimeoutMs { get; set; } = 200;
}

/// <summary>A named regular expression from configuration whose matches are masked.</summary>
public sealed class CustomRedactionPattern
{
    /// <summary>Short name, used in the replacement <c>[NAME]</c> (upper-cased).</summary>
    public string Name { get; set; } = "custom";

    /// <summary>.NET regular expression; compiled once, culture-invariant.</summary>
    public string Pattern { get; set; } = "";
}

/// <summary>How the original bytes of a record that could not be decoded leave the process.</summary>
public enum DeadLetterPayloadMode
{
    /// <summary>
    /// Through <see cref="Redactor.RedactPayload"/>: JSON (and JSON lines) with attribute bags
    /// filtered by the allow-list and every string pattern-masked; other text pattern-masked;
    /// binary (protobuf) with every printable run pattern-masked by <c>*</c> of the same length,
    /// so the framing stays valid. The allow-list cannot be applied inside protobuf (the bytes are
    /// undecodable by definition), only the patterns.
    /// </summary>
    Redacted = 0,

    /// <summary>
    /// The original bytes, unchanged, for byte-exact reprocessing. Only when the dead-letter topic
    /// is protected like the input topics: it then holds whatever the producers sent.
    /// </summary>
    Original = 1,

    /// <summary>No payload at all (an empty value); the headers still say why and where from.</summary>
    Omitted = 2,
}
