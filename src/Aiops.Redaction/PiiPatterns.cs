using System.Text.RegularExpressions;

namespace Aiops.Redaction;

/// <summary>
/// The built-in masking patterns, source-generated at compile time (no regex interpretation or
/// Reflection.Emit at start) and each bounded by a match timeout. Every pattern is anchored on
/// lookarounds rather than nested quantifiers so a match is linear in the value's length; the
/// timeout is a second line of defence, and a timeout fails closed (the whole value is masked).
/// </summary>
internal static partial class PiiPatterns
{
    /// <summary>
    /// Timeout of each built-in pattern, milliseconds. The values redacted are attribute values,
    /// incident texts and dead-letter payloads (a few KiB); a linear pattern scans 1 MiB in well
    /// under 50 ms, so 250 ms is only reached by a pathological input.
    /// </summary>
    internal const int TimeoutMs = 250;

    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture;

    /// <summary>
    /// A JSON Web Token: three base64url segments, the first being a JSON header, which always
    /// starts with <c>{"</c> and so encodes to <c>eyJ</c> (RFC 7519 §3, RFC 7515 §7.1).
    /// </summary>
    [GeneratedRegex(@"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*", Options, TimeoutMs)]
    internal static partial Regex Jwt();

    /// <summary>
    /// The value after a credential-carrying key in free text: <c>Authorization: Bearer x</c>,
    /// <c>password=x</c>, <c>"api_key": "x"</c>. The key stays, the value (with its scheme) goes.
    /// </summary>
    [GeneratedRegex(
        @"(?<=\b(?:authorization|password|passwd|pwd|secret|api[_\-]?key|access[_\-]?token|refresh[_\-]?token|client[_\-]?secret|token)[""']?\s{0,8}[:=]\s{0,8}[""']?)(?:(?:bearer|basic|digest|negotiate)\s{1,8})?[^\s""',;&}\]]+",
        Options | RegexOptions.IgnoreCase, TimeoutMs)]
    internal static partial Regex CredentialAssignment();

    /// <summary>
    /// An HTTP authentication credential after its scheme (RFC 9110 §11.4: <c>Bearer</c> token68,
    /// <c>Basic</c> base64). Six characters minimum so prose such as "basic auth" is left alone.
    /// </summary>
    [GeneratedRegex(@"(?<=\b(?:bearer|basic)\s{1,8})[A-Za-z0-9\-._~+/]{6,}=*", Options | RegexOptions.IgnoreCase, TimeoutMs)]
    internal static partial Regex SchemeCredential();

    /// <summary>
    /// An e-mail address (the dot-atom form of RFC 5322 §3.4.1 with a dotted domain). The
    /// lookbehind stops a match from starting inside the local part, so the whole address goes.
    /// </summary>
    [GeneratedRegex(
        @"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)+",
        Options, TimeoutMs)]
    internal static partial Regex Email();

    /// <summary>
    /// A dotted-quad IPv4 address, octets 0–255, not part of a longer dotted number (so
    /// <c>1.2.3.4.5</c> is not cut in two).
    /// </summary>
    [GeneratedRegex(
        @"(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?![0-9]|\.[0-9])",
        Options, TimeoutMs)]
    internal static partial Regex IPv4();

    /// <summary>
    /// A candidate IPv6 address: a run of hex digits, colons and dots (for the embedded-IPv4 form)
    /// with an optional zone. Candidates are confirmed by <see cref="System.Net.IPAddress.TryParse(string?, out System.Net.IPAddress?)"/>,
    /// so times (<c>12:30:45</c>) and MAC addresses are kept.
    /// </summary>
    [GeneratedRegex(@"(?<![0-9A-Za-z])[0-9A-Fa-f:.]{2,45}(?:%[0-9A-Za-z]{1,16})?(?![0-9A-Za-z])", Options, TimeoutMs)]
    internal static partial Regex IPv6Candidate();

    /// <summary>
    /// A candidate payment card number: 13–19 digits (ISO/IEC 7812), optionally grouped by single
    /// spaces or dashes, starting with 2–6 (the major networks' issuer prefixes: Mastercard 2/5,
    /// Amex/Diners/JCB 3, Visa 4, Discover/UnionPay 6). The prefix rule keeps epoch timestamps
    /// (which start with 1 until 2033) out; the Luhn check keeps 90% of other digit runs out.
    /// </summary>
    [GeneratedRegex(@"(?<![0-9])[2-6](?:[ \-]?[0-9]){12,18}(?![0-9])", Options, TimeoutMs)]
    internal static partial Regex CardCandidate();
}
