using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Aiops.Redaction.Tests;

public sealed class RedactorJsonTests
{
    private static readonly Redactor Default = new(new RedactionOptions());

    private static JsonElement Redact(string json)
    {
        Assert.True(Default.TryRedactJson(Encoding.UTF8.GetBytes(json), out byte[] redacted, out string? error), error);
        return JsonDocument.Parse(redacted).RootElement.Clone();
    }

    [Fact]
    public void AnIncidentKeepsItsStructureAndLosesPersonalData()
    {
        const string incident = """
            {"id":"inc-1","service":"checkout","openedMs":1700000000000,
             "detail":"errors for ada@example.com from 10.0.0.7",
             "attributes":{"http.route":"/pay","user.name":"Ada","exception.message":"bad card 4111111111111111"},
             "count":3,"ok":false,"note":null}
            """;

        var root = Redact(incident);

        Assert.Equal("inc-1", root.GetProperty("id").GetString());
        Assert.Equal("checkout", root.GetProperty("service").GetString());
        // 1700000000000 is an epoch-ms time: it starts with 1, so it is not a card candidate.
        Assert.Equal(1700000000000L, root.GetProperty("openedMs").GetInt64());
        Assert.Equal("errors for [EMAIL] from [IP]", root.GetProperty("detail").GetString());
        var attributes = root.GetProperty("attributes");
        Assert.Equal("/pay", attributes.GetProperty("http.route").GetString());
        Assert.Equal("[REDACTED]", attributes.GetProperty("user.name").GetString());
        Assert.Equal("bad card [CARD]", attributes.GetProperty("exception.message").GetString());
        Assert.Equal(3, root.GetProperty("count").GetInt32());
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("note").ValueKind);
    }

    [Fact]
    public void ADisallowedAttributeWithAnObjectValueIsReplacedWhole()
    {
        var root = Redact("""{"tags":{"request.body":{"email":"ada@example.com","n":[1,2]},"http.route":"/x"}}""");

        Assert.Equal("[REDACTED]", root.GetProperty("tags").GetProperty("request.body").GetString());
        Assert.Equal("/x", root.GetProperty("tags").GetProperty("http.route").GetString());
    }

    [Fact]
    public void OtlpStyleAttributeArraysApplyTheAllowListToEachKey()
    {
        // OTLP JSON: attributes are [{"key":…,"value":{"stringValue":…}}]; the value may come first.
        var root = Redact("""
            {"attributes":[
              {"key":"http.route","value":{"stringValue":"/pay"}},
              {"value":{"stringValue":"ada@example.com"},"key":"user.email"},
              {"key":"db.statement","value":{"stringValue":"select * from users where email='bob@example.org'"}}
            ]}
            """);

        var items = root.GetProperty("attributes");
        Assert.Equal("/pay", items[0].GetProperty("value").GetProperty("stringValue").GetString());
        Assert.Equal("user.email", items[1].GetProperty("key").GetString());
        Assert.Equal("[REDACTED]", items[1].GetProperty("value").GetString());
        Assert.Equal("[REDACTED]", items[2].GetProperty("value").GetString());
    }

    [Fact]
    public void ACardNumberWrittenAsAJsonNumberIsMasked()
    {
        var root = Redact("""{"list":[4111111111111111, 4111111111111112, 12.5]}""");

        // 4111111111111111 passes Luhn; changing the check digit to 2 makes it fail.
        Assert.Equal("[CARD]", root.GetProperty("list")[0].GetString());
        Assert.Equal(4111111111111112L, root.GetProperty("list")[1].GetInt64());
        Assert.Equal(12.5, root.GetProperty("list")[2].GetDouble());
    }

    [Fact]
    public void EscapedStringsAreUnescapedBeforeMatching()
    {
        // \u0040 is '@': an escaped address must not slip past the e-mail pattern.
        var root = Redact("""{"m":"mail ada\u0040example.com"}""");

        Assert.Equal("mail [EMAIL]", root.GetProperty("m").GetString());
    }

    [Theory]
    [InlineData("{\"a\":")]
    [InlineData("{\"a\":1}}")]
    [InlineData("not json")]
    [InlineData("")]
    public void InvalidJsonIsReportedAndNeverThrown(string json)
    {
        var redactor = new Redactor(new RedactionOptions());
        var output = new ArrayBufferWriter<byte>();

        var result = redactor.RedactJson(Encoding.UTF8.GetBytes(json), output);

        Assert.False(result.Success);
        Assert.False(string.IsNullOrEmpty(result.Error));
        Assert.Equal(1, redactor.Counters.InvalidJson);
    }

    [Fact]
    public void NoGeneratedPersonalDataLeaksFromJsonStringValues()
    {
        var gen = new PiiGenerator(seed: 21);
        for (int i = 0; i < 200; i++)
        {
            string email = gen.Email();
            string ip = gen.IPv4();
            string card = gen.CardNumber();
            string json = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["detail"] = gen.Embed(email) + gen.Embed(ip),
                ["other"] = gen.Embed(card),
            });

            Assert.True(Default.TryRedactJson(Encoding.UTF8.GetBytes(json), out byte[] redacted, out _));
            string text = Encoding.UTF8.GetString(redacted);

            Assert.DoesNotContain(email, text, StringComparison.Ordinal);
            Assert.DoesNotContain(ip, text, StringComparison.Ordinal);
            Assert.DoesNotContain(card, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ABinaryPayloadKeepsItsLengthAndLosesTheEmbeddedAddress()
    {
        // A protobuf-like record: tag 0x0A, length, then text; the framing bytes must keep their values.
        byte[] text = Encoding.ASCII.GetBytes("user ada@example.com");
        byte[] payload = [0x0A, (byte)text.Length, .. text, 0x10, 0x96, 0x01];

        byte[] result = Default.RedactPayload(payload);

        Assert.Equal(payload.Length, result.Length);
        Assert.Equal(0x0A, result[0]);
        Assert.Equal(text.Length, result[1]);
        Assert.Equal("user ***************", Encoding.ASCII.GetString(result, 2, text.Length));
        Assert.Equal(new byte[] { 0x10, 0x96, 0x01 }, result[^3..]);
    }

    [Fact]
    public void AJsonLinesPayloadIsRedactedLineByLine()
    {
        byte[] payload = Encoding.UTF8.GetBytes("{\"attributes\":{\"user.id\":\"u1\"}}\n{\"detail\":\"from 10.0.0.1\"}\n");

        string result = Encoding.UTF8.GetString(Default.RedactPayload(payload));

        Assert.Equal("{\"attributes\":{\"user.id\":\"[REDACTED]\"}}\n{\"detail\":\"from [IP]\"}\n", result);
    }
}
