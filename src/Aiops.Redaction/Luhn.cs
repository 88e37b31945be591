namespace Aiops.Redaction;

/// <summary>
/// The Luhn (mod 10) check digit test of ISO/IEC 7812-1 Annex B: from the rightmost digit,
/// double every second digit, subtract 9 from doubles above 9, and the sum must be a multiple of
/// 10. Every issued card number passes it; a random digit run passes with probability 1/10, which
/// is what keeps order ids and timestamps from being masked as cards.
/// </summary>
internal static class Luhn
{
    /// <summary>True when the digits of <paramref name="text"/> (separators ' ' and '-' skipped) pass the check.</summary>
    /// <remarks>Caller guarantees <paramref name="text"/> holds only digits and separators.</remarks>
    public static bool IsValid(ReadOnlySpan<char> text)
    {
        int sum = 0;
        bool doubleIt = false;
        int digits = 0;
        for (int i = text.Length - 1; i >= 0; i--)
        {
            char c = text[i];
            if (c is < '0' or > '9')
            {
                continue;
            }

            int d = c - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
            digits++;
        }

        return digits > 0 && sum % 10 == 0;
    }

    /// <summary>Number of ASCII digits in <paramref name="text"/>.</summary>
    public static int CountDigits(ReadOnlySpan<char> text)
    {
        int n = 0;
        foreach (char c in text)
        {
            if (c is >= '0' and <= '9')
            {
                n++;
            }
        }

        return n;
    }
}
