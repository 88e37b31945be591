namespace Aiops.Detection.Tests;

/// <summary>Deterministic synthetic data for the tests (seeded; Box–Muller normals).</summary>
internal sealed class SeriesGen(int seed)
{
    public const long T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z, an arbitrary fixed epoch
    public const long Minute = 60_000;

    private readonly Random _random = new(seed);

    public double Normal()
    {
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public int Binomial(int n, double p)
    {
        var k = 0;
        for (var i = 0; i < n; i++)
        {
            k += _random.NextDouble() < p ? 1 : 0;
        }

        return k;
    }
}
