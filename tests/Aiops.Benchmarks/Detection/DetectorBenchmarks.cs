using Aiops.Core;
using Aiops.Detection;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Aiops.Benchmarks.Detection;

// `dotnet run -c Release --project tests/Aiops.Benchmarks -- --filter '*Detector*' -i --job short`
// (table of the last run in src/Aiops.Detection/README.md, with the load average it ran under).

/// <summary>
/// Per-point cost of an established series (the issue's ≥ 1,000,000 points/s/core and 0 B/point
/// targets), beside a naive detector that refits its SSA and re-sorts its residuals on every
/// point; the parts of one refit (SSA by full MathNet decomposition or by warm-started subspace
/// iteration, the residual scale, the period search); and the bytes a new series costs (≤ 4 KiB).
/// </summary>
/// <remarks>
/// The series is a 32-sample cycle so that the 4,096-point array repeats without a phase jump:
/// with a 30-sample cycle every pass started 14 samples out of phase, a regime change every 4,096
/// points that made the seasonal model relearn (and the figure measure relearning, not the steady state).
/// </remarks>
[MemoryDiagnoser]
public class DetectorBenchmarks
{
    private const int Points = 4096;
    private const long Step = 60_000;

    private readonly double[] _values = new double[Points];
    private SeriesDetector _detector = null!;
    private NaiveDetector _naive = null!;
    private SsaForecaster _ssa = null!;
    private ResidualDistribution _residuals = null!;
    private long _ts;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < Points; i++)
        {
            _values[i] = 100 + (10 * Math.Sin(2 * Math.PI * i / 32)) + (random.NextDouble() - 0.5);
        }

        _detector = new SeriesDetector(new SeriesKey("bench", "latency"), MetricKind.Generic);
        _naive = new NaiveDetector();
        _ts = 1_700_000_000_000;
        for (var r = 0; r < 4; r++)
        {
            // Establish the series: 16k points, past warm-up, season search and several refits.
            for (var i = 0; i < Points; i++)
            {
                _ts += Step;
                _detector.Update(_ts, _values[i]);
            }
        }

        for (var i = 0; i < 200; i++)
        {
            _naive.Update(_values[i]);
        }

        _ssa = new SsaForecaster(16, 64, 3);
        for (var i = 0; i < 64; i++)
        {
            _ssa.Push(_values[i]);
        }

        _ssa.Refit(1);
        _residuals = new ResidualDistribution(DetectionProfile.Default(MetricKind.Generic).ResidualWindow);
        for (var i = 0; i < 256; i++)
        {
            _residuals.Push(random.NextDouble() - 0.5);
        }
    }

    /// <summary>Steady state of one established series: points per second = 1e9 / (ns per op).</summary>
    [Benchmark(OperationsPerInvoke = Points)]
    public double UpdatePerPoint()
    {
        double sum = 0;
        var values = _values;
        for (var i = 0; i < values.Length; i++)
        {
            _ts += Step;
            sum += _detector.Update(_ts, values[i]).Score;
        }

        return sum;
    }

    /// <summary>Naive baseline: refit SSA (MathNet SVD of the trajectory matrix) and sort residuals every point.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 256)]
    public double NaiveUpdatePerPoint()
    {
        double sum = 0;
        for (var i = 0; i < 256; i++)
        {
            sum += _naive.Update(_values[i]);
        }

        return sum;
    }

    /// <summary>One SSA refit with MathNet's full symmetric eigen-decomposition (L = 16, N = 64, r = 3).</summary>
    [Benchmark]
    public void RefitFullDecomposition() => _ssa.Refit(1);

    /// <summary>One SSA refit by two steps of warm-started subspace iteration (the default between full decompositions).</summary>
    [Benchmark]
    public void RefitSubspaceIteration() => _ssa.Refit(int.MaxValue);

    /// <summary>Median and scale of the recent residuals (two selections over 88 floats), once per refit.</summary>
    [Benchmark]
    public void RefitResidualScale() => _residuals.Refit(1e-9);

    /// <summary>The autocorrelation period search over the 64-point history (lags 16–32), every 4th refit.</summary>
    [Benchmark]
    public int PeriodSearch() => PeriodDetector.DominantPeriod(_values.AsSpan(0, 64), 16, 32, 0.5);

    /// <summary>A new series: the allocated bytes are the state a series costs.</summary>
    [Benchmark]
    public SeriesDetector NewSeries() => new(new SeriesKey("bench", "new"), MetricKind.Generic);

    /// <summary>
    /// What a first implementation would do: keep a list of the last 64 values, on every point build
    /// the trajectory matrix, take its SVD with MathNet, form the recurrence from 3 components and
    /// score the residual against a freshly sorted copy of the last 64 residuals (LINQ).
    /// </summary>
    private sealed class NaiveDetector
    {
        private readonly List<double> _history = [];
        private readonly List<double> _residuals = [];

        public double Update(double value)
        {
            double forecast = _history.Count > 0 ? _history[^1] : value;
            if (_history.Count >= 64)
            {
                const int l = 16;
                var k = _history.Count - l + 1;
                var x = Matrix<double>.Build.Dense(l, k, (i, j) => _history[i + j]);
                var u = x.Svd(true).U;
                var r = new double[l - 1];
                double nu2 = 0;
                for (var c = 0; c < 3; c++)
                {
                    var pi = u[l - 1, c];
                    nu2 += pi * pi;
                    for (var m = 0; m < l - 1; m++)
                    {
                        r[m] += pi * u[m, c];
                    }
                }

                forecast = 0;
                for (var m = 0; m < l - 1; m++)
                {
                    forecast += r[m] / (1 - nu2) * _history[_history.Count - l + 1 + m];
                }
            }

            var residual = value - forecast;
            var sorted = _residuals.OrderBy(v => v).ToList();
            var median = sorted.Count > 0 ? sorted[sorted.Count / 2] : 0;
            var mad = sorted.Count > 0 ? sorted.Select(v => Math.Abs(v - median)).OrderBy(v => v).ElementAt(sorted.Count / 2) : 1;
            var z = Math.Abs(residual - median) / Math.Max(1.4826 * mad, 1e-9);
            _history.Add(value);
            if (_history.Count > 64)
            {
                _history.RemoveAt(0);
            }

            _residuals.Add(residual);
            if (_residuals.Count > 64)
            {
                _residuals.RemoveAt(0);
            }

            return z;
        }
    }
}
