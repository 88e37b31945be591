using System.Numerics;
using MathNet.Numerics.Providers.LinearAlgebra;

namespace Aiops.Detection;

/// <summary>
/// Singular Spectrum Analysis forecaster over a ring of the last N values (Golyandina, Nekrutkin &amp;
/// Zhigljavsky, "Analysis of Time Series Structure: SSA and Related Techniques", 2001, §2.1–2.3):
/// the trajectory (Hankel) matrix X (L × K, K = N − L + 1), the lag covariance C = X Xᵀ, its r
/// leading eigenvectors U₁..U_r and the linear recurrent formula (eq. 2.1 of ch. 2):
/// x_t = Σ_{m=0}^{L−2} R_m x_{t−L+1+m}, with R = (1 − ν²)⁻¹ Σ πᵢ Uᵢ^∇, πᵢ the last entry of Uᵢ,
/// Uᵢ^∇ its first L − 1 entries and ν² = Σ πᵢ².
/// </summary>
/// <remarks>
/// The model is refitted every k points by the caller. A full refit uses MathNet's symmetric
/// eigen-decomposition; the refits in between warm-start two steps of orthogonal (subspace)
/// iteration from the previous eigenvectors, which costs O(L² r) instead of O(L³) and allocates
/// nothing. The recurrence depends only on the span of the eigenvectors, not on a basis of it, so
/// subspace iteration gives the same forecast once converged. Scratch matrices are thread-static
/// (shared by all series on a thread) so a series' state is only the history, the subspace and R.
/// </remarks>
internal sealed class SsaForecaster
{
    [ThreadStatic] private static double[]? t_series;
    [ThreadStatic] private static double[]? t_cov;
    [ThreadStatic] private static double[]? t_vectors;
    [ThreadStatic] private static double[]? t_work;
    [ThreadStatic] private static double[]? t_d;
    [ThreadStatic] private static Complex[]? t_values;

    /// <summary>Largest white-noise variance gain ‖R‖² a recurrence may have (see <see cref="BuildRecurrence"/>).</summary>
    private const double MaxNoiseGain = 1.0;

    /// <summary>How far above the noise floor an eigenvalue must be for its component to be used.</summary>
    private const double SignalToNoise = 2.0;

    private readonly int _window;
    private readonly int _rank;
    private readonly double[] _history;
    private readonly double[] _subspace; // L × r, column-major
    private readonly double[] _recurrence; // L − 1
    private int _head;
    private int _filled;
    private bool _fitted;
    private int _refits;

    public SsaForecaster(int window, int history, int rank)
    {
        _window = window;
        _rank = rank;
        _history = new double[history];
        _subspace = new double[window * rank];
        _recurrence = new double[window - 1];
    }

    public bool IsFitted => _fitted;

    public int Count => _filled;

    public double Last => _filled == 0 ? 0 : _history[(_head - 1 + _history.Length) % _history.Length];

    public void Push(double value)
    {
        _history[_head] = value;
        _head++;
        if (_head == _history.Length)
        {
            _head = 0;
        }

        if (_filled < _history.Length)
        {
            _filled++;
        }
    }

    /// <summary>One-step forecast by the linear recurrence; the last value until the model is fitted.</summary>
    public double Forecast()
    {
        if (!_fitted)
        {
            return Last;
        }

        var n = _history.Length;
        var lags = _window - 1;
        var start = _head - lags;
        if (start < 0)
        {
            start += n;
        }

        double sum = 0;
        var lo = double.PositiveInfinity;
        var hi = double.NegativeInfinity;
        var firstSegment = Math.Min(lags, n - start);
        var h = _history;
        var r = _recurrence;
        for (var m = 0; m < firstSegment; m++)
        {
            var x = h[start + m];
            sum += r[m] * x;
            lo = Math.Min(lo, x);
            hi = Math.Max(hi, x);
        }

        for (var m = firstSegment; m < lags; m++)
        {
            var x = h[m - firstSegment];
            sum += r[m] * x;
            lo = Math.Min(lo, x);
            hi = Math.Max(hi, x);
        }

        // A recurrence with roots outside the unit circle can explode on an unusual history; one step
        // ahead never needs to leave the recent range by more than that range.
        var range = hi - lo;
        return Math.Clamp(sum, lo - range, hi + range);
    }

    /// <summary>Refits the subspace and the recurrence from the current history (needs a full history); a full decomposition on the first fit and every <paramref name="fullEvery"/>-th refit (never again when 0).</summary>
    public void Refit(int fullEvery)
    {
        if (_filled < _history.Length)
        {
            return;
        }

        var n = _history.Length;
        var l = _window;
        var k = n - l + 1;
        var z = t_series is { Length: var zl } && zl >= n ? t_series : t_series = new double[Math.Max(n, 512)];
        var cov = t_cov is { Length: var cl } && cl >= l * l ? t_cov : t_cov = new double[64 * 64];
        for (var i = 0; i < n; i++)
        {
            z[i] = _history[(_head + i) % n];
        }

        // First row C[0][j] = Σ_k z[k] z[j+k]; then C[i+1][j+1] = C[i][j] − z[i]z[j] + z[i+K]z[j+K].
        for (var j = 0; j < l; j++)
        {
            double s = 0;
            for (var t = 0; t < k; t++)
            {
                s += z[t] * z[j + t];
            }

            cov[j] = s;
            cov[j * l] = s;
        }

        for (var i = 0; i + 1 < l; i++)
        {
            for (var j = i; j + 1 < l; j++)
            {
                var v = cov[(i * l) + j] - (z[i] * z[j]) + (z[i + k] * z[j + k]);
                cov[((i + 1) * l) + j + 1] = v;
                cov[((j + 1) * l) + i + 1] = v;
            }
        }

        if (!_fitted || (fullEvery > 0 && _refits % fullEvery == 0))
        {
            FullDecomposition(cov, l);
        }
        else
        {
            SubspaceIteration(cov, l, 2);
        }

        _refits++;
        _fitted = BuildRecurrence(cov, l);
    }

    private void FullDecomposition(double[] cov, int l)
    {
        // MathNet's provider wants arrays of exactly order × order; they are cached per thread for the last L used.
        var a = t_work is { Length: var al } && al == l * l ? t_work : t_work = new double[l * l];
        var vectors = t_vectors is { Length: var vl } && vl == l * l ? t_vectors : t_vectors = new double[l * l];
        var d = t_d is { Length: var dl } && dl == l * l ? t_d : t_d = new double[l * l];
        var values = t_values is { Length: var el } && el == l ? t_values : t_values = new Complex[l];
        Array.Copy(cov, a, l * l);
        LinearAlgebraControl.Provider.EigenDecomp(true, l, a, vectors, values, d);

        // MathNet returns the eigenvalues of a symmetric matrix in ascending order; keep the r largest.
        for (var c = 0; c < _rank; c++)
        {
            var src = l - 1 - c;
            Array.Copy(vectors, src * l, _subspace, c * l, l);
        }
    }

    private void SubspaceIteration(double[] cov, int l, int steps)
    {
        var y = t_work is { Length: var al } && al == l * l ? t_work : t_work = new double[l * l];
        for (var step = 0; step < steps; step++)
        {
            for (var c = 0; c < _rank; c++)
            {
                for (var i = 0; i < l; i++)
                {
                    double s = 0;
                    for (var j = 0; j < l; j++)
                    {
                        s += cov[(i * l) + j] * _subspace[(c * l) + j];
                    }

                    y[(c * l) + i] = s;
                }
            }

            Orthonormalise(y, l);
            Array.Copy(y, _subspace, l * _rank);
        }
    }

    private void Orthonormalise(double[] y, int l)
    {
        for (var c = 0; c < _rank; c++)
        {
            for (var p = 0; p < c; p++)
            {
                double dot = 0;
                for (var i = 0; i < l; i++)
                {
                    dot += y[(c * l) + i] * y[(p * l) + i];
                }

                for (var i = 0; i < l; i++)
                {
                    y[(c * l) + i] -= dot * y[(p * l) + i];
                }
            }

            double norm = 0;
            for (var i = 0; i < l; i++)
            {
                norm += y[(c * l) + i] * y[(c * l) + i];
            }

            norm = Math.Sqrt(norm);
            if (norm < 1e-300)
            {
                // Degenerate direction (a rank-deficient history): fall back to a unit vector.
                for (var i = 0; i < l; i++)
                {
                    y[(c * l) + i] = i == c ? 1 : 0;
                }

                continue;
            }

            for (var i = 0; i < l; i++)
            {
                y[(c * l) + i] /= norm;
            }
        }
    }

    private bool BuildRecurrence(double[] cov, int l)
    {
        // Keep components whose Rayleigh quotient is material (a constant series has rank 1 and the
        // rest of the "eigenvectors" are arbitrary null-space directions that would only add noise).
        double top = 0;
        Span<double> lambda = stackalloc double[_rank];
        for (var c = 0; c < _rank; c++)
        {
            double q = 0;
            for (var i = 0; i < l; i++)
            {
                double s = 0;
                for (var j = 0; j < l; j++)
                {
                    s += cov[(i * l) + j] * _subspace[(c * l) + j];
                }

                q += s * _subspace[(c * l) + i];
            }

            lambda[c] = q;
            top = Math.Max(top, q);
        }

        // Order components by eigenvalue (subspace iteration does not sort them).
        Span<int> order = stackalloc int[_rank];
        for (var c = 0; c < _rank; c++)
        {
            order[c] = c;
        }

        for (var a = 0; a < _rank; a++)
        {
            for (var b = a + 1; b < _rank; b++)
            {
                if (lambda[order[b]] > lambda[order[a]])
                {
                    (order[a], order[b]) = (order[b], order[a]);
                }
            }
        }

        // Components that do not stand out of the noise floor (the mean of the discarded
        // eigenvalues, from the trace) are noise directions that change from refit to refit; keep
        // only those at least SignalToNoise times above it (the leading one always).
        double trace = 0;
        double kept = 0;
        for (var i = 0; i < l; i++)
        {
            trace += cov[(i * l) + i];
        }

        for (var c = 0; c < _rank; c++)
        {
            kept += lambda[c];
        }

        var noise = Math.Max(0, trace - kept) / (l - _rank);
        var significant = 1;
        while (significant < _rank && lambda[order[significant]] > SignalToNoise * noise)
        {
            significant++;
        }

        // Use the most components whose recurrence does not amplify noise: ‖R‖² is the variance
        // gain of white noise through the forecast, and a gain above 1 (a slow cycle seen through
        // a short window looks like a polynomial, whose extrapolation is erratic) costs more in
        // forecast error than the extra component buys.
        for (var used = significant; used >= 1; used--)
        {
            Array.Clear(_recurrence);
            double nu2 = 0;
            for (var o = 0; o < used; o++)
            {
                var c = order[o];
                if (!(lambda[c] > top * 1e-10))
                {
                    continue;
                }

                var pi = _subspace[(c * l) + l - 1];
                nu2 += pi * pi;
                for (var m = 0; m < l - 1; m++)
                {
                    _recurrence[m] += pi * _subspace[(c * l) + m];
                }
            }

            if (!(nu2 < 1 - 1e-9) || top <= 0)
            {
                continue; // the vertical direction lies in the subspace: no recurrence exists (GNZ 2001, §2.1)
            }

            var scale = 1 / (1 - nu2);
            double gain = 0;
            for (var m = 0; m < l - 1; m++)
            {
                _recurrence[m] *= scale;
                gain += _recurrence[m] * _recurrence[m];
            }

            if (gain <= MaxNoiseGain)
            {
                return true;
            }
        }

        // No usable recurrence: carry the last value.
        Array.Clear(_recurrence);
        _recurrence[l - 2] = 1;
        return true;
    }

    /// <summary>Copies the history, oldest first, into <paramref name="into"/> (length N).</summary>
    public void CopyHistory(Span<double> into)
    {
        var n = _history.Length;
        for (var i = 0; i < n; i++)
        {
            into[i] = _history[(_head + i) % n];
        }
    }

    /// <summary>Replaces the whole history with one value (used when the seasonal model changes).</summary>
    public void Fill(double value)
    {
        Array.Fill(_history, value);
        _filled = _history.Length;
        _head = 0;
    }

    public int StateBytes => (8 * (_history.Length + _subspace.Length + _recurrence.Length)) + (3 * 24) + 48;

    public void Write(BinaryWriter w)
    {
        w.Write(_head);
        w.Write(_filled);
        w.Write(_fitted);
        w.Write(_refits);
        Snapshot.WriteArray(w, _history);
        Snapshot.WriteArray(w, _subspace);
        Snapshot.WriteArray(w, _recurrence);
    }

    public void Read(BinaryReader r)
    {
        _head = r.ReadInt32();
        _filled = r.ReadInt32();
        _fitted = r.ReadBoolean();
        _refits = r.ReadInt32();
        Snapshot.ReadArray(r, _history, "ssa.history");
        Snapshot.ReadArray(r, _subspace, "ssa.subspace");
        Snapshot.ReadArray(r, _recurrence, "ssa.recurrence");
        if (_head < 0 || _head >= _history.Length || _filled < 0 || _filled > _history.Length)
        {
            throw new InvalidDataException($"Snapshot field ssa.head/filled out of range ({_head}, {_filled}).");
        }
    }
}
