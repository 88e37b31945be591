using System.Text;
using Aiops.Ingestion;
using Aiops.Worker.Options;
using Aiops.Worker.Processing;
using Aiops.Worker.Telemetry;

namespace Aiops.Worker.Tests;

/// <summary>Records that must not stop the loop: too large, or making the decoder or processor throw.</summary>
public sealed class RecordHandlerTests
{
    private static RecordHandler Handler(ITelemetryDecoder decoder, ITelemetryProcessor processor, int maxRecordBytes = 1_024) =>
        new(decoder, processor, new WorkerMetrics(), Microsoft.Extensions.Options.Options.Create(new LimitsOptions { MaxRecordBytes = maxRecordBytes }));

    [Fact]
    public void ARecordOverTheSizeLimitFailsAsOversizedWithoutReachingTheDecoder()
    {
        var decoder = new ThrowingDecoder();
        var handler = Handler(decoder, new RecordingProcessor(), maxRecordBytes: 1_024);

        var outcome = handler.Handle(SignalKind.Metrics, TopicEncoding.JsonLines, new byte[1_025]);

        Assert.False(outcome.Success);
        Assert.Equal("Oversized", outcome.ErrorKind);
        Assert.Contains("1025 bytes, more than Limits:MaxRecordBytes=1024", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(0, decoder.Calls);
    }

    [Fact]
    public void ARecordAtTheSizeLimitIsDecoded()
    {
        var decoder = new ThrowingDecoder();
        var outcome = Handler(decoder, new RecordingProcessor(), maxRecordBytes: 1_024).Handle(SignalKind.Metrics, TopicEncoding.JsonLines, new byte[1_024]);

        Assert.True(outcome.Success);
        Assert.Equal(1, decoder.Calls);
    }

    [Fact]
    public void AnyExceptionFromTheDecoderBecomesAFailedRecordNamingIt()
    {
        var handler = Handler(new ThrowingDecoder(), new RecordingProcessor());

        var outcome = handler.Handle(SignalKind.Metrics, TopicEncoding.JsonLines, Encoding.UTF8.GetBytes("boom"));

        // NullReferenceException is not among the exceptions a decoder is expected to throw.
        Assert.False(outcome.Success);
        Assert.Equal(RecordHandler.DecoderExceptionKind, outcome.ErrorKind);
        Assert.StartsWith("NullReferenceException: ", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExceptionFromTheProcessorBecomesAPartialFailureAndTheNextRecordIsProcessed()
    {
        var processor = new RecordingProcessor();
        var handler = Handler(new CsvLineDecoder(), processor);

        var poison = handler.Handle(SignalKind.Metrics, TopicEncoding.JsonLines, Encoding.UTF8.GetBytes($"svc,m,1,{RecordingProcessor.PoisonValue}"));
        var next = handler.Handle(SignalKind.Metrics, TopicEncoding.JsonLines, Encoding.UTF8.GetBytes("svc,m,2,5"));

        Assert.Equal(RecordHandler.ProcessingExceptionKind, poison.ErrorKind);
        Assert.True(poison.Partial);
        Assert.True(next.Success);
        Assert.Equal(2, processor.Seen[^1].TimestampMs);
    }

    /// <summary>Counts calls; throws a <see cref="NullReferenceException"/> on the payload "boom", otherwise decodes nothing.</summary>
    private sealed class ThrowingDecoder : ITelemetryDecoder
    {
        public int Calls { get; private set; }

        public void Decode(SignalKind signal, TopicEncoding encoding, ReadOnlySpan<byte> payload, DecodeBatch batch)
        {
            Calls++;
            if (payload.SequenceEqual("boom"u8))
            {
                throw new NullReferenceException("decoder bug");
            }
        }
    }
}
