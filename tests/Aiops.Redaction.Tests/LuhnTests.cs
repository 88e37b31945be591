namespace Aiops.Redaction.Tests;

public sealed class LuhnTests
{
    [Theory]
    [InlineData("79927398713", true)] // the worked example of the Luhn algorithm in ISO/IEC 7812-1 literature
    [InlineData("79927398710", false)] // same payload, wrong check digit
    [InlineData("4111 1111 1111 1111", true)] // separators are skipped
    [InlineData("4111-1111-1111-1112", false)]
    public void TheCheckDigitDecidesValidity(string number, bool expected)
    {
        Assert.Equal(expected, Luhn.IsValid(number));
    }

    [Fact]
    public void EveryCheckDigitFromTheIndependentGeneratorPasses()
    {
        var random = new Random(5);
        for (int i = 0; i < 500; i++)
        {
            string payload = random.NextInt64(100_000_000_000_000, 999_999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string number = payload + PiiGenerator.LuhnCheckDigit(payload);

            Assert.True(Luhn.IsValid(number), number);
        }
    }
}
