namespace Aiops.Detection;

/// <summary>
/// Seasonal profiles learnt side by side for candidate periods — daily, weekly and one "other"
/// period found by autocorrelation (<see cref="PeriodDetector"/>) — each a ring of bucket means of
/// the deviation from a slow level, indexed by event time (so gaps and irregular sampling do not
/// shift the phase). Every candidate keeps an exponentially weighted mean of its squared one-step
/// error and of the squared deviation; the share of variance it explains decides which period (if
/// any) is dominant. Bucket values are floats (168 weekly buckets = 672 B).
/// </summary>
internal sealed class SeasonalModel
{
    private const long DayMs = 86_400_000;
    private const long WeekMs = 7 * DayMs;

    /// <summary>Smoothing of the error/variance averages (≈ 100 points of memory).</summary>
    private const double ErrorAlpha = 0.01;

    /// <summary>Share of the variance by which a challenger must beat the selected season.</summary>
    private const double Hysteresis = 0.1;

    /// <summary>How far below the selection share the selected season may fall before it lapses.</summary>
    private const double LapseBand = 0.05;

    /// <summary>Honest (out-of-sample) predictions a candidate needs before it may be chosen.</summary>
    private const int MinPredictions = 64;

    private readonly Candidate[] _candidates;
    private readonly double _alpha;
    private readonly double _minExplained;
    private int _selected = -1;

    public SeasonalModel(DetectionProfile profile)
    {
        _alpha = profile.SeasonAlpha;
        _minExplained = profile.SeasonMinExplained;
        _candidates =
        [
            new Candidate(DayMs, profile.DailyBuckets, profile.DailyBuckets),
            new Candidate(WeekMs, profile.WeeklyBuckets, profile.WeeklyBuckets),
            new Candidate(0, 0, Math.Max(4, profile.SsaHistory / 2)),
        ];
    }

    /// <summary>The selected period in ms, 0 when the series has no dominant season.</summary>
    public long PeriodMs => _selected < 0 ? 0 : _candidates[_selected].PeriodMs;

    /// <summary>Seasonal deviation expected at <paramref name="timestampMs"/> (0 without a season).</summary>
    public double Expected(long timestampMs) => _selected < 0 ? 0 : _candidates[_selected].Value(timestampMs);

    /// <summary>Learns from an accepted, non-anomalous point.</summary>
    public void Update(long timestampMs, double value, double intervalMs)
    {
        foreach (var c in _candidates)
        {
            c.Update(timestampMs, value, intervalMs, _alpha);
        }
    }

    /// <summary>Offers an autocorrelation period (in samples) for the "other" candidate.</summary>
    public void OfferPeriod(int samples, double intervalMs)
    {
        var other = _candidates[2];
        if (_selected == 2 || samples < 4 || samples > other.Capacity || intervalMs <= 0)
        {
            return;
        }

        var periodMs = (long)Math.Round(samples * intervalMs);
        if (Math.Abs(periodMs - DayMs) < intervalMs * 2 || Math.Abs(periodMs - WeekMs) < intervalMs * 2)
        {
            return; // already a candidate of its own
        }

        if (other.PeriodMs != periodMs)
        {
            other.Reset(periodMs, samples);
        }
    }

    /// <summary>Chooses the dominant candidate; returns true if the choice changed.</summary>
    public bool Reselect(long timestampMs)
    {
        var best = -1;
        var bestExplained = _minExplained;
        for (var i = 0; i < _candidates.Length; i++)
        {
            var e = _candidates[i].Explained(timestampMs);
            if (e > bestExplained)
            {
                best = i;
                bestExplained = e;
            }
        }

        // Hysteresis both ways: keep the current season unless a challenger explains 10 points more,
        // and let it lapse only 5 points below the share that selects one. Without the second band
        // a season explaining ≈ 30% was dropped and re-selected every few refits (109 switches in
        // 49k points of the benchmark series), each restarting the SSA history and costing a full
        // eigen-decomposition. A 10-point band cost NAB 1.7 points (61.08 → 59.37): a season that
        // explains only 20% is better dropped.
        if (_selected >= 0)
        {
            var current = _candidates[_selected].Explained(timestampMs);
            if (current > _minExplained - LapseBand && (best < 0 || bestExplained < current + Hysteresis))
            {
                return false;
            }
        }

        if (best == _selected)
        {
            return false;
        }

        _selected = best;
        return true;
    }

    public int StateBytes
    {
        get
        {
            var bytes = 24 + 24;
            foreach (var c in _candidates)
            {
                bytes += c.StateBytes;
            }

            return bytes;
        }
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_selected);
        foreach (var c in _candidates)
        {
            c.Write(w);
        }
    }

    public void Read(BinaryReader r)
    {
        _selected = r.ReadInt32();
        if (_selected < -1 || _selected >= _candidates.Length)
        {
            throw new InvalidDataException($"Snapshot field season.selected out of range ({_selected}).");
        }

        foreach (var c in _candidates)
        {
            c.Read(r);
        }
    }

    private sealed class Candidate
    {
        private readonly float[] _buckets;
        private int _bucketCount;
        private double _level;
        private double _errorEwma;
        private double _varianceEwma;
        private long _firstTs = long.MinValue;
        private int _predictions;
        private long _samples;

        public Candidate(long periodMs, int buckets, int capacity)
        {
            PeriodMs = periodMs;
            _bucketCount = buckets;
            _buckets = new float[capacity];
            Array.Fill(_buckets, float.NaN);
        }

        public long PeriodMs { get; private set; }

        public int Capacity => _buckets.Length;

        public int StateBytes => (4 * _buckets.Length) + 24 + 64;

        public void Reset(long periodMs, int buckets)
        {
            PeriodMs = periodMs;
            _bucketCount = buckets;
            Array.Fill(_buckets, float.NaN);
            _errorEwma = 0;
            _varianceEwma = 0;
            _firstTs = long.MinValue;
            _predictions = 0;
            _samples = 0;
        }

        private int Bucket(long ts)
        {
            var phase = ts % PeriodMs;
            if (phase < 0)
            {
                phase += PeriodMs;
            }

            return (int)(phase * _bucketCount / PeriodMs);
        }

        public double Value(long ts)
        {
            if (PeriodMs <= 0)
            {
                return 0;
            }

            var v = _buckets[Bucket(ts)];
            return float.IsNaN(v) ? 0 : v;
        }

        public double Explained(long ts)
        {
            if (PeriodMs <= 0 || _predictions < MinPredictions || _firstTs == long.MinValue || ts - _firstTs < 2 * PeriodMs || _varianceEwma <= 0)
            {
                return 0;
            }

            return 1 - (_errorEwma / _varianceEwma);
        }

        public void Update(long ts, double value, double intervalMs, double alpha)
        {
            if (PeriodMs <= 0 || intervalMs <= 0 || intervalMs * 4 > PeriodMs)
            {
                return; // a period shorter than 4 samples cannot be resolved
            }

            if (_firstTs == long.MinValue)
            {
                _firstTs = ts;
                _level = value;
            }

            // The level is a running mean over the first period, then an EWMA with a one-period time
            // constant; buckets average over the periods seen so far (1/k) before settling to the
            // profile's α, so the first period's level error does not stay in the profile as a step
            // where the phase wraps.
            var periodsSeen = (ts - _firstTs) / PeriodMs;
            _samples++;
            _level += Math.Max(Math.Min(0.05, intervalMs / PeriodMs), 1.0 / _samples) * (value - _level);
            var dev = value - _level;
            var b = Bucket(ts);
            var old = _buckets[b];
            if (float.IsNaN(old))
            {
                _buckets[b] = (float)dev;
                return;
            }

            alpha = Math.Max(alpha, 1.0 / (periodsSeen + 1));

            if (ts - _firstTs >= PeriodMs)
            {
                var err = dev - old;
                _errorEwma += ErrorAlpha * ((err * err) - _errorEwma);
                _varianceEwma += ErrorAlpha * ((dev * dev) - _varianceEwma);
                _predictions++;
            }

            _buckets[b] = (float)(old + (alpha * (dev - old)));
        }

        public void Write(BinaryWriter w)
        {
            w.Write(PeriodMs);
            w.Write(_bucketCount);
            w.Write(_level);
            w.Write(_errorEwma);
            w.Write(_varianceEwma);
            w.Write(_firstTs);
            w.Write(_predictions);
            w.Write(_samples);
            Snapshot.WriteArray(w, _buckets);
        }

        public void Read(BinaryReader r)
        {
            PeriodMs = r.ReadInt64();
            _bucketCount = r.ReadInt32();
            _level = r.ReadDouble();
            _errorEwma = r.ReadDouble();
            _varianceEwma = r.ReadDouble();
            _firstTs = r.ReadInt64();
            _predictions = r.ReadInt32();
            _samples = r.ReadInt64();
            Snapshot.ReadArray(r, _buckets, "season.buckets");
            if (PeriodMs < 0 || _bucketCount < 0 || _bucketCount > _buckets.Length)
            {
                throw new InvalidDataException($"Snapshot field season.period/buckets out of range ({PeriodMs}, {_bucketCount}).");
            }
        }
    }
}
