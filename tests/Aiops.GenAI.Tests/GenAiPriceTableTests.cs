namespace Aiops.GenAI.Tests;

public sealed class GenAiPriceTableTests
{
    [Fact]
    public void ThePriceOfARequestIsTokensTimesThePricePerMillion()
    {
        var table = GenAiPriceTable.Parse("""{"models":{"m":{"inputPerMillion":2.0,"outputPerMillion":8.0}}}""");

        Assert.True(table.TryGetPrice("M", out var price)); // names match case-insensitively
        // 500,000 × 2 / 1e6 + 250,000 × 8 / 1e6 = 1 + 2 = 3 USD.
        Assert.Equal(3.0, price.Cost(500_000, 250_000), 12);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("""{"models":{"m":{"inputPerMillion":"cheap","outputPerMillion":1}}}""")]
    [InlineData("""{"models":{"m":{"inputPerMillion":-1,"outputPerMillion":1}}}""")]
    public void AMalformedTableFailsWithAFormatException(string json)
    {
        Assert.Throws<FormatException>(() => GenAiPriceTable.Parse(json));
    }

    [Fact]
    public void TheCommittedPriceTableLoads()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aiops.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var table = GenAiPriceTable.Load(Path.Combine(dir.FullName, "models", "genai", "prices.json"));

        Assert.True(table.Count > 0);
    }
}
