using Aiops.Pipeline.Repartition;
using Aiops.Worker.Processing.Repartition;

namespace Aiops.Worker.Tests;

public sealed class RepartitionRouterTests
{
    [Fact]
    public void ABatchOverTheMessageLimitIsProducedAsSeveralMessagesEachUnderItThatDecodeToTheSameRecordsInOrder()
    {
        var records = new List<StageRecord>();
        for (int i = 0; i < 1000; i++)
        {
            records.Add(new WatermarkRecord { Source = i % 7, TimeMs = 1_700_000_000_000L + i });
        }

        int whole = StageRecordCodec.Encode(records).Length;
        int limit = whole / 5;
        var values = new List<byte[]>();
        RepartitionRouter.Encode(records, limit, values.Add);

        // At least 5 messages (the whole batch is 5 limits), none over the limit, the records in order.
        Assert.True(values.Count >= 5, $"{values.Count} messages");
        Assert.All(values, v => Assert.True(v.Length <= limit, $"{v.Length} > {limit}"));
        Assert.Equal(records, values.SelectMany(static v => StageRecordCodec.Decode(v)));
    }

    [Fact]
    public void ABatchUnderTheLimitIsOneMessage()
    {
        var records = new List<StageRecord> { new WatermarkRecord { Source = 1, TimeMs = 5 }, new WatermarkRecord { Source = 2, TimeMs = 6 } };
        var values = new List<byte[]>();
        RepartitionRouter.Encode(records, 900_000, values.Add);
        Assert.Equal(StageRecordCodec.Encode(records), Assert.Single(values));
    }
}
