using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Aiops.Core;

namespace Aiops.Redaction;

/// <summary>
/// Removes personal data and secrets from everything the worker lets out of the process
/// (incidents, dead letters, reports). Immutable after construction and thread-safe: one instance
/// is shared by every consumer thread. A value that needs no change comes back as the same
/// instance, so the common case (a clean attribute) allocates nothing.
/// </summary>
/// <remarks>
/// Two layers, both always applied: (1) an allow-list of attribute keys — a value whose key is not
/// allowed, or is denied, becomes <see cref="RedactionOptions.Marker"/>; (2) pattern masking of
/// every value and text that passes the first layer: JWTs, credentials, e-mail addresses, IPv6 and
/// IPv4 addresses, Luhn-valid card numbers, then the configured custom patterns, in that order
/// (tokens first, because a JWT or a basic credential can contain text that looks like the rest).
/// Every failure (a regex timeout, unparsable JSON) fails closed: the value is masked whole.
/// </remarks>
public sealed partial class Redactor
{
    private const string EmailMarker = "[EMAIL]";
    private const string IpMarker = "[IP]";
    private const string TokenMarker = "[TOKEN]";
    private const string JwtMarker = "[JWT]";
    private const string CardMarker = "[CARD]";

    /// <summary>Card numbers have 13 to 19 digits (ISO/IEC 7812-1).</summary>
    private const int MinCardDigits = 13;
    private const int MaxCardDigits = 19;

    private readonly HashSet<string> _allowedExact;
    private readonly string[] _allowedPrefixes;
    private readonly HashSet<string> _denied;
    private readonly HashSet<string> _attributeObjectNames;
    private readonly (Regex Regex, string Marker)[] _custom;
    private readonly RedactionOptions _options;

    /// <summary>Builds a redactor; custom patterns are compiled here, so a bad one fails at start.</summary>
    /// <exception cref="ArgumentException">A custom pattern is empty or not a valid .NET regular expression.</exception>
    public Redactor(RedactionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _allowedExact = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var prefixes = new List<string>();
        foreach (string key in options.AllowedKeys)
        {
            if (key.EndsWith(".*", StringComparison.Ordinal))
            {
                prefixes.Add(key[..^1]);
            }
            else if (key == "*")
            {
                prefixes.Add("");
            }
            else
            {
                _allowedExact.Add(key);
            }
        }

        _allowedPrefixes = [.. prefixes];
        _denied = new HashSet<string>(options.DeniedKeys, StringComparer.OrdinalIgnoreCase);
        _attributeObjectNames = new HashSet<string>(options.AttributeObjectNames, StringComparer.Ordinal);
        if (options.CustomPatternTimeoutMs <= 0)
        {
            throw new ArgumentException($"Redaction:CustomPatternTimeoutMs must be positive, was {options.CustomPatternTimeoutMs}.", nameof(options));
        }

        var timeout = TimeSpan.FromMilliseconds(options.CustomPatternTimeoutMs);
        _custom = new (Regex, string)[options.CustomPatterns.Count];
        for (int i = 0; i < _custom.Length; i++)
        {
            var p = options.CustomPatterns[i];
            if (string.IsNullOrEmpty(p.Pattern))
            {
                throw new ArgumentException($"Redaction:CustomPatterns:{i}:Pattern is empty.", nameof(options));
            }

            try
            {
                var regex = new Regex(p.Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, timeout);
                _custom[i] = (regex, "[" + p.Name.ToUpperInvariant() + "]");
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"Redaction:CustomPatterns:{i}:Pattern '{p.Pattern}' is not a valid regular expression: {ex.Message}", nameof(options), ex);
            }
        }
    }

    /// <summary>What has been masked so far.</summary>
    public RedactionCounters Counters { get; } = new();

    /// <summary>The replacement of a value whose key is not allowed.</summary>
    public string Marker => _options.Marker;

    /// <summary>
    /// True when values of <paramref name="key"/> may leave the process (after masking): the key
    /// is on the allow-list (exactly or under a <c>prefix.*</c> entry, case-insensitive) and
    /// neither the key nor its last dotted segment is denied.
    /// </summary>
    public bool IsAllowed(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (IsDenied(key))
        {
            return false;
        }

        if (_allowedExact.Contains(key))
        {
            return true;
        }

        foreach (string prefix in _allowedPrefixes)
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsDenied(string key)
    {
        if (_denied.Count == 0)
        {
            return false;
        }

        if (_denied.Contains(key))
        {
            return true;
        }

        int dot = key.LastIndexOf('.');
        return dot >= 0 && dot < key.Length - 1
            && _denied.GetAlternateLookup<ReadOnlySpan<char>>().Contains(key.AsSpan(dot + 1));
    }

    /// <summary>
    /// Masks the patterns in free text (span names, error messages, incident details). Returns
    /// <paramref name="text"/> itself when nothing matched.
    /// </summary>
    public string RedactText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Mask(text, sameLength: false);
    }

    /// <summary>
    /// The value of attribute <paramref name="key"/> as it may leave the process: the marker when
    /// the key is not allowed, otherwise the value with its patterns masked.
    /// </summary>
    public string RedactValue(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IsAllowed(key))
        {
            Counters.AddValueByKey();
            return _options.Marker;
        }

        return Mask(value, sameLength: false);
    }

    /// <summary>
    /// Redacts every attribute value (<see cref="RedactValue"/>); keys are kept but pattern-masked
    /// (an e-mail used as a key must not leak either). Returns <paramref name="attributes"/>
    /// itself when nothing changed.
    /// </summary>
    public IReadOnlyList<SpanAttribute> RedactAttributes(IReadOnlyList<SpanAttribute> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        SpanAttribute[]? copy = null;
        for (int i = 0; i < attributes.Count; i++)
        {
            var a = attributes[i];
            string key = Mask(a.Key, sameLength: false);
            string value = RedactValue(a.Key, a.Value);
            if (copy is null && ReferenceEquals(key, a.Key) && ReferenceEquals(value, a.Value))
            {
                continue;
            }

            if (copy is null)
            {
                copy = new SpanAttribute[attributes.Count];
                for (int j = 0; j < i; j++)
                {
                    copy[j] = attributes[j];
                }
            }

            copy[i] = new SpanAttribute(key, value);
        }

        return copy ?? attributes;
    }

    /// <summary>
    /// Redacts a canonical label string (<c>k1=v1,k2=v2</c>, as series keys carry it): each value
    /// through <see cref="RedactValue"/> under its key, each key pattern-masked. A fragment without
    /// <c>=</c> belongs to the previous value (a value that contained a comma), so it is redacted
    /// with that value. Returns <paramref name="labels"/> itself when nothing changed.
    /// </summary>
    public string RedactLabelSet(string labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length == 0)
        {
            return labels;
        }

        var result = new StringBuilder(labels.Length + 16);
        bool changed = false;
        int start = 0;
        while (start < labels.Length)
        {
            int eq = labels.IndexOf('=', start);
            if (eq < 0)
            {
                // No key at all: mask as text.
                string rest = labels[start..];
                string masked = Mask(rest, sameLength: false);
                changed |= !ReferenceEquals(rest, masked);
                result.Append(masked);
                break;
            }

            // The value runs to the next ",key=" (a comma followed by a fragment holding '=').
            int end = eq + 1;
            while (true)
            {
                int comma = labels.IndexOf(',', end);
                if (comma < 0)
                {
                    end = labels.Length;
                    break;
                }

                int nextEq = labels.IndexOf('=', comma + 1);
                int nextComma = labels.IndexOf(',', comma + 1);
                if (nextEq >= 0 && (nextComma < 0 || nextEq < nextComma))
                {
                    end = comma;
                    break;
                }

                end = comma + 1;
            }

            string key = labels[start..eq];
            string value = labels[(eq + 1)..end];
            string maskedKey = Mask(key, sameLength: false);
            string redacted = RedactValue(key, value);
            changed |= !ReferenceEquals(key, maskedKey) || !ReferenceEquals(value, redacted);
            result.Append(maskedKey).Append('=').Append(redacted);
            if (end < labels.Length)
            {
                result.Append(',');
            }

            start = end + 1;
        }

        return changed ? result.ToString() : labels;
    }

    /// <summary>
    /// A copy of <paramref name="span"/> fit to leave the process: attributes redacted, and the
    /// free-text fields (name, service, instance, peer and server address) pattern-masked.
    /// Ids, times, kind and status carry no personal data and are kept.
    /// </summary>
    public SpanRecord RedactSpan(in SpanRecord span) => span with
    {
        Name = Mask(span.Name, false),
        Service = Mask(span.Service, false),
        ServiceInstance = span.ServiceInstance is null ? null : Mask(span.ServiceInstance, false),
        PeerService = span.PeerService is null ? null : Mask(span.PeerService, false),
        ServerAddress = span.ServerAddress is null ? null : Mask(span.ServerAddress, false),
        Attributes = RedactAttributes(span.Attributes),
    };

    /// <summary>
    /// Masks patterns with runs of <c>*</c> of the same length, so byte offsets (and protobuf
    /// length prefixes around the text) stay valid. Used for binary dead-letter payloads.
    /// </summary>
    internal string MaskSameLength(string text) => Mask(text, sameLength: true);

    private string Mask(string text, bool sameLength)
    {
        if (text.Length < 2)
        {
            return text;
        }

        try
        {
            return MaskCore(text, sameLength);
        }
        catch (RegexMatchTimeoutException)
        {
            Counters.AddTimeout();
            return sameLength ? new string('*', text.Length) : _options.Marker;
        }
    }

    private string MaskCore(string text, bool sameLength)
    {
        // One pass of cheap pre-filters: most values (routes, status codes, names) have no '@',
        // fewer than 13 digits and fewer than two ':', and skip the corresponding regexes.
        int at = 0, colons = 0, digits = 0, dots = 0;
        foreach (char c in text)
        {
            switch (c)
            {
                case '@': at++; break;
                case ':': colons++; break;
                case '.': dots++; break;
                case >= '0' and <= '9': digits++; break;
                default: break;
            }
        }

        string s = text;
        if (_options.MaskJwts && dots >= 2 && s.Contains("eyJ", StringComparison.Ordinal))
        {
            s = Replace(s, PiiPatterns.Jwt(), JwtMarker, PatternKind.Jwt, sameLength);
        }

        if (_options.MaskCredentials && s.Length >= 6)
        {
            s = Replace(s, PiiPatterns.CredentialAssignment(), TokenMarker, PatternKind.Credential, sameLength);
            s = Replace(s, PiiPatterns.SchemeCredential(), TokenMarker, PatternKind.Credential, sameLength);
        }

        if (_options.MaskEmails && at > 0)
        {
            s = Replace(s, PiiPatterns.Email(), EmailMarker, PatternKind.Email, sameLength);
        }

        if (_options.MaskIpAddresses)
        {
            if (colons >= 2)
            {
                s = Replace(s, PiiPatterns.IPv6Candidate(), IpMarker, PatternKind.IPv6, sameLength);
            }

            if (dots >= 3 && digits >= 4)
            {
                s = Replace(s, PiiPatterns.IPv4(), IpMarker, PatternKind.IPv4, sameLength);
            }
        }

        if (_options.MaskCardNumbers && digits >= MinCardDigits)
        {
            s = Replace(s, PiiPatterns.CardCandidate(), CardMarker, PatternKind.Card, sameLength);
        }

        foreach (var (regex, marker) in _custom)
        {
            s = Replace(s, regex, marker, PatternKind.Custom, sameLength);
        }

        return s;
    }

    private enum PatternKind
    {
        Jwt,
        Credential,
        Email,
        IPv4,
        IPv6,
        Card,
        Custom,
    }

    private string Replace(string text, Regex regex, string marker, PatternKind kind, bool sameLength)
    {
        StringBuilder? sb = null;
        int last = 0;
        int count = 0;
        foreach (var m in regex.EnumerateMatches(text))
        {
            if (kind == PatternKind.IPv6)
            {
                int length = ValidIPv6Length(text.AsSpan(m.Index, m.Length));
                if (length == 0)
                {
                    continue;
                }

                Append(ref sb, text, last, m.Index, marker, length, sameLength);
                last = m.Index + length;
                count++;
            }
            else if (kind == PatternKind.Card)
            {
                count += AppendCards(ref sb, text, ref last, m.Index, m.Length, sameLength);
            }
            else
            {
                Append(ref sb, text, last, m.Index, marker, m.Length, sameLength);
                last = m.Index + m.Length;
                count++;
            }
        }

        if (sb is null)
        {
            return text;
        }

        sb.Append(text, last, text.Length - last);
        switch (kind)
        {
            case PatternKind.Jwt: Counters.AddJwts(count); break;
            case PatternKind.Credential: Counters.AddCredentials(count); break;
            case PatternKind.Email: Counters.AddEmails(count); break;
            case PatternKind.IPv4 or PatternKind.IPv6: Counters.AddIpAddresses(count); break;
            case PatternKind.Card: Counters.AddCards(count); break;
            default: Counters.AddCustom(count); break;
        }

        return sb.ToString();
    }

    private static void Append(ref StringBuilder? sb, string text, int last, int index, string marker, int length, bool sameLength)
    {
        sb ??= new StringBuilder(text.Length + 16);
        sb.Append(text, last, index - last);
        if (sameLength)
        {
            sb.Append('*', length);
        }
        else
        {
            sb.Append(marker);
        }
    }

    /// <summary>
    /// Length of the IPv6 address at the start of <paramref name="candidate"/>, or 0 when it is
    /// not one. Trailing sentence punctuation ('.' or a single ':') is not part of the address.
    /// </summary>
    private static int ValidIPv6Length(ReadOnlySpan<char> candidate)
    {
        int zone = candidate.IndexOf('%');
        var s = zone >= 0 ? candidate[..zone] : candidate;
        for (int attempt = 0; attempt < 3 && s.Length >= 2; attempt++)
        {
            if (s.Count(':') >= 2
                && IPAddress.TryParse(s, out var address)
                && address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                return zone >= 0 && attempt == 0 ? candidate.Length : s.Length;
            }

            if (zone >= 0 || s[^1] is not ('.' or ':'))
            {
                return 0;
            }

            s = s[..^1];
        }

        return 0;
    }

    /// <summary>
    /// Masks the card numbers inside one candidate digit run (groups separated by ' ' or '-'):
    /// the longest run of whole groups with 13–19 digits, starting with 2–6, that passes Luhn;
    /// then the search continues after it. Groups that are not part of a valid number are kept,
    /// so "order 4111111111111111 12" loses the card but keeps the 12.
    /// </summary>
    private int AppendCards(ref StringBuilder? sb, string text, ref int last, int index, int length, bool sameLength)
    {
        // At most 19 digits, so at most 19 groups.
        Span<int> starts = stackalloc int[MaxCardDigits];
        Span<int> ends = stackalloc int[MaxCardDigits];
        int groups = 0;
        int end = index + length;
        int i = index;
        while (i < end && groups < MaxCardDigits)
        {
            int g = i;
            while (i < end && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            starts[groups] = g;
            ends[groups] = i;
            groups++;
            i++; // separator
        }

        int count = 0;
        int first = 0;
        while (first < groups)
        {
            int found = -1;
            if (text[starts[first]] is >= '2' and <= '6')
            {
                for (int lastGroup = groups - 1; lastGroup >= first; lastGroup--)
                {
                    var run = text.AsSpan(starts[first], ends[lastGroup] - starts[first]);
                    int n = Luhn.CountDigits(run);
                    if (n is >= MinCardDigits and <= MaxCardDigits && Luhn.IsValid(run))
                    {
                        found = lastGroup;
                        break;
                    }
                }
            }

            if (found < 0)
            {
                first++;
                continue;
            }

            int from = starts[first];
            int to = ends[found];
            Append(ref sb, text, last, from, CardMarker, to - from, sameLength);
            last = to;
            count++;
            first = found + 1;
        }

        return count;
    }
}
