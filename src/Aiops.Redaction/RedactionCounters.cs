namespace Aiops.Redaction;

/// <summary>What a <see cref="Redactor"/> has masked, for the worker's self-telemetry. Thread-safe.</summary>
public sealed class RedactionCounters
{
    private long _valuesByKey;
    private long _emails;
    private long _ipAddresses;
    private long _credentials;
    private long _jwts;
    private long _cards;
    private long _custom;
    private long _timeouts;
    private long _invalidJson;

    /// <summary>Values replaced by the marker because their key is not allowed (or is denied).</summary>
    public long ValuesRedactedByKey => Volatile.Read(ref _valuesByKey);

    /// <summary>E-mail addresses masked.</summary>
    public long Emails => Volatile.Read(ref _emails);

    /// <summary>IPv4 and IPv6 addresses masked.</summary>
    public long IpAddresses => Volatile.Read(ref _ipAddresses);

    /// <summary>Credentials masked (bearer/basic values, <c>Authorization:</c> and <c>password=</c> values).</summary>
    public long Credentials => Volatile.Read(ref _credentials);

    /// <summary>JSON Web Tokens masked.</summary>
    public long Jwts => Volatile.Read(ref _jwts);

    /// <summary>Luhn-valid card numbers masked.</summary>
    public long CardNumbers => Volatile.Read(ref _cards);

    /// <summary>Matches of configured custom patterns masked.</summary>
    public long CustomMatches => Volatile.Read(ref _custom);

    /// <summary>Values masked whole because a pattern timed out on them (fail closed).</summary>
    public long Timeouts => Volatile.Read(ref _timeouts);

    /// <summary>JSON documents that could not be parsed (and were not let out).</summary>
    public long InvalidJson => Volatile.Read(ref _invalidJson);

    internal void AddValueByKey() => Interlocked.Increment(ref _valuesByKey);

    internal void AddEmails(int n) => Interlocked.Add(ref _emails, n);

    internal void AddIpAddresses(int n) => Interlocked.Add(ref _ipAddresses, n);

    internal void AddCredentials(int n) => Interlocked.Add(ref _credentials, n);

    internal void AddJwts(int n) => Interlocked.Add(ref _jwts, n);

    internal void AddCards(int n) => Interlocked.Add(ref _cards, n);

    internal void AddCustom(int n) => Interlocked.Add(ref _custom, n);

    internal void AddTimeout() => Interlocked.Increment(ref _timeouts);

    internal void AddInvalidJson() => Interlocked.Increment(ref _invalidJson);
}
