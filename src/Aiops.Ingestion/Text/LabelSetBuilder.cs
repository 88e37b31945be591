using System.Runtime.CompilerServices;

namespace Aiops.Ingestion.Text;

/// <summary>
/// Builds the canonical label string of <see cref="Aiops.Core.SeriesKey.Labels"/>
/// (<c>k1=v1,k2=v2</c>, keys sorted ordinally, last value wins for a repeated key) from UTF-8
/// pairs, in reused buffers, so a data point's labels cost no allocation; the result is then
/// interned. Keys are compared as UTF-8 bytes, which orders like code points (it differs from
/// <see cref="string.CompareOrdinal(string, string)"/> only between U+E000–U+FFFF and
/// supplementary characters, which do not occur in attribute keys in practice).
/// Values are not escaped: a value containing <c>,</c> or <c>=</c> is kept verbatim.
/// </summary>
internal sealed class LabelSetBuilder
{
    private byte[] _data = new byte[512];
    private int _dataLength;
    private Item[] _items = new Item[16];
    private int _count;
    private byte[] _output = new byte[512];

    private struct Item
    {
        public int KeyStart;
        public int KeyLength;
        public int ValueStart;
        public int ValueLength;
    }

    /// <summary>Number of pairs added since <see cref="Reset"/>.</summary>
    public int Count => _count;

    /// <summary>Forgets all pairs, keeping the buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Reset()
    {
        _count = 0;
        _dataLength = 0;
    }

    /// <summary>Adds one pair (copied).</summary>
    public void Add(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int need = _dataLength + key.Length + value.Length;
        if (need > _data.Length)
        {
            Array.Resize(ref _data, Math.Max(need, _data.Length * 2));
        }

        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        ref Item item = ref _items[_count++];
        item.KeyStart = _dataLength;
        item.KeyLength = key.Length;
        key.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += key.Length;
        item.ValueStart = _dataLength;
        item.ValueLength = value.Length;
        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
    }

    /// <summary>Sorts the pairs by key and writes <c>k1=v1,k2=v2</c>; valid until the next call.</summary>
    public ReadOnlySpan<byte> Build()
    {
        if (_count == 0)
        {
            return default;
        }

        // Insertion sort: label sets are small (typically 2-8 pairs, capped by MaxLabelsPerPoint),
        // where it beats Array.Sort and needs no comparer delegate.
        Span<Item> items = _items.AsSpan(0, _count);
        ReadOnlySpan<byte> data = _data;
        for (int i = 1; i < items.Length; i++)
        {
            Item x = items[i];
            ReadOnlySpan<byte> xk = data.Slice(x.KeyStart, x.KeyLength);
            int j = i - 1;
            while (j >= 0 && data.Slice(items[j].KeyStart, items[j].KeyLength).SequenceCompareTo(xk) > 0)
            {
                items[j + 1] = items[j];
                j--;
            }

            items[j + 1] = x;
        }

        int need = _dataLength + 2 * _count;
        if (need > _output.Length)
        {
            Array.Resize(ref _output, Math.Max(need, _output.Length * 2));
        }

        Span<byte> output = _output;
        int n = 0;
        for (int i = 0; i < items.Length; i++)
        {
            ReadOnlySpan<byte> key = data.Slice(items[i].KeyStart, items[i].KeyLength);

            // A repeated key: the later pair (stable sort keeps input order) wins.
            if (i + 1 < items.Length && data.Slice(items[i + 1].KeyStart, items[i + 1].KeyLength).SequenceEqual(key))
            {
                continue;
            }

            if (n > 0)
            {
                output[n++] = (byte)',';
            }

            key.CopyTo(output[n..]);
            n += key.Length;
            output[n++] = (byte)'=';
            data.Slice(items[i].ValueStart, items[i].ValueLength).CopyTo(output[n..]);
            n += items[i].ValueLength;
        }

        return output[..n];
    }
}
