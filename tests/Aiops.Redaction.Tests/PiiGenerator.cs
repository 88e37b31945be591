using System.Globalization;
using System.Net;
using System.Text;

namespace Aiops.Redaction.Tests;

/// <summary>
/// Seeded generators of personal data and of harmless filler text, for property-style tests:
/// each test draws hundreds of cases from a fixed seed, so a failure is reproducible.
/// </summary>
internal sealed class PiiGenerator(int seed)
{
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";
    private const string LocalChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-";
    private const string Base64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static readonly string[] Words =
    [
        "request", "failed", "for", "user", "contact", "at", "from", "host", "checkout", "payment", "retry",
        "the", "order", "timeout", "upstream", "sent", "to", "value", "was", "(", ")", "[", "]", "\"", "'", ",", ";", ":", "=",
    ];

    private readonly Random _random = new(seed);

    public string Word() => Words[_random.Next(Words.Length)];

    /// <summary>Filler of 0–6 words; never digits, so it cannot extend a generated number.</summary>
    public string Filler()
    {
        int n = _random.Next(0, 7);
        var sb = new StringBuilder();
        for (int i = 0; i < n; i++)
        {
            sb.Append(Word()).Append(' ');
        }

        return sb.ToString();
    }

    /// <summary>Embeds <paramref name="secret"/> between filler, separated by a space or a delimiter.</summary>
    public string Embed(string secret)
    {
        string[] left = [" ", " <", " (", " \"", "=", ": "];
        string[] right = [" ", ">", ")", "\"", ".", ",", ""];
        return Filler() + left[_random.Next(left.Length)] + secret + right[_random.Next(right.Length)] + " " + Filler();
    }

    public string Email()
    {
        var sb = new StringBuilder();
        int localLength = _random.Next(1, 20);
        sb.Append(Lower[_random.Next(Lower.Length)]);
        for (int i = 1; i < localLength; i++)
        {
            sb.Append(LocalChars[_random.Next(LocalChars.Length)]);
        }

        sb.Append('@');
        int labels = _random.Next(1, 4);
        for (int l = 0; l < labels; l++)
        {
            int len = _random.Next(1, 12);
            for (int i = 0; i < len; i++)
            {
                sb.Append(Lower[_random.Next(Lower.Length)]);
            }

            sb.Append('.');
        }

        string[] tlds = ["com", "org", "io", "de", "co.uk", "example"];
        sb.Append(tlds[_random.Next(tlds.Length)]);
        return sb.ToString();
    }

    public string IPv4() => string.Create(
        CultureInfo.InvariantCulture,
        $"{_random.Next(1, 256)}.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(256)}");

    /// <summary>A random IPv6 address in the canonical text form (RFC 5952: compressed, lower case).</summary>
    public string IPv6()
    {
        var bytes = new byte[16];
        _random.NextBytes(bytes);
        // Zero some groups so the "::" compression appears in about half the cases.
        if (_random.Next(2) == 0)
        {
            int from = _random.Next(1, 7) * 2;
            int count = _random.Next(2, 6) * 2;
            for (int i = from; i < Math.Min(16, from + count); i++)
            {
                bytes[i] = 0;
            }
        }

        return new IPAddress(bytes).ToString();
    }

    /// <summary>A card number with a correct Luhn check digit and a major network's prefix, maybe grouped.</summary>
    public string CardNumber()
    {
        string[] prefixes = ["4", "51", "55", "2221", "34", "37", "6011", "65"];
        int[] lengths = [16, 16, 16, 16, 15, 15, 16, 16];
        int p = _random.Next(prefixes.Length);
        var digits = new StringBuilder(prefixes[p]);
        while (digits.Length < lengths[p] - 1)
        {
            digits.Append((char)('0' + _random.Next(10)));
        }

        digits.Append((char)('0' + LuhnCheckDigit(digits.ToString())));
        return _random.Next(3) switch
        {
            0 => digits.ToString(),
            1 => Group(digits.ToString(), ' '),
            _ => Group(digits.ToString(), '-'),
        };
    }

    /// <summary>Same shape as <see cref="CardNumber"/> but with the check digit off by 1–9, so Luhn fails.</summary>
    public string LuhnInvalidNumber()
    {
        var digits = new StringBuilder("4");
        while (digits.Length < 15)
        {
            digits.Append((char)('0' + _random.Next(10)));
        }

        int wrong = (LuhnCheckDigit(digits.ToString()) + _random.Next(1, 10)) % 10;
        digits.Append((char)('0' + wrong));
        return digits.ToString();
    }

    public string Jwt() => "eyJ" + Base64(_random.Next(10, 30)) + ".eyJ" + Base64(_random.Next(20, 80)) + "." + Base64(_random.Next(20, 60));

    public string Token(int length) => Base64(length);

    public int Next(int max) => _random.Next(max);

    private string Base64(int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            sb.Append(Base64Url[_random.Next(Base64Url.Length)]);
        }

        return sb.ToString();
    }

    private static string Group(string digits, char separator)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < digits.Length; i++)
        {
            if (i > 0 && i % 4 == 0)
            {
                sb.Append(separator);
            }

            sb.Append(digits[i]);
        }

        return sb.ToString();
    }

    /// <summary>
    /// The digit that makes <paramref name="payload"/> + digit pass Luhn (ISO/IEC 7812-1 Annex B),
    /// computed here independently of the code under test: double every second digit from the right
    /// of the payload (the check digit will sit to its right), subtract 9 from doubles over 9.
    /// </summary>
    public static int LuhnCheckDigit(string payload)
    {
        int sum = 0;
        for (int i = 0; i < payload.Length; i++)
        {
            int d = payload[payload.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
            }

            sum += d;
        }

        return (10 - (sum % 10)) % 10;
    }
}
