using Aiops.Core;

namespace Aiops.Redaction.Tests;

public sealed class RedactorTests
{
    /// <summary>Cases per property-style test: enough to hit every generator branch many times, fast (~ms).</summary>
    private const int Cases = 400;

    private static readonly Redactor Default = new(new RedactionOptions());

    [Fact]
    public void AValueWhoseKeyIsNotAllowedBecomesTheMarker()
    {
        var redactor = new Redactor(new RedactionOptions { AllowedKeys = ["http.route"] });

        Assert.Equal("[REDACTED]", redactor.RedactValue("user.name", "Ada Lovelace"));
        Assert.Equal(1, redactor.Counters.ValuesRedactedByKey);
    }

    [Fact]
    public void AnAllowedSafeValueComesBackAsTheSameInstance()
    {
        const string route = "/api/orders/{id}";

        string result = Default.RedactValue("http.route", route);

        Assert.Same(route, result);
    }

    [Fact]
    public void APrefixEntryAllowsEveryKeyUnderIt()
    {
        var redactor = new Redactor(new RedactionOptions { AllowedKeys = ["app.*"], DeniedKeys = [] });

        Assert.True(redactor.IsAllowed("app.feature.flag"));
        Assert.False(redactor.IsAllowed("application"));
    }

    [Fact]
    public void ADeniedLastSegmentWinsOverAnAllowingPrefix()
    {
        // http.* would allow the header; "authorization" is on the default deny-list.
        var redactor = new Redactor(new RedactionOptions { AllowedKeys = ["http.*"] });

        Assert.False(redactor.IsAllowed("http.request.header.authorization"));
        Assert.Equal("[REDACTED]", redactor.RedactValue("http.request.header.authorization", "Basic dXNlcjpwYXNz"));
        Assert.True(redactor.IsAllowed("http.request.method"));
    }

    [Fact]
    public void AllowedValuesStillHaveTheirPatternsMasked()
    {
        string result = Default.RedactValue("exception.message", "no account for ada@example.com from 10.1.2.3");

        Assert.Equal("no account for [EMAIL] from [IP]", result);
    }

    [Fact]
    public void NoGeneratedEmailAddressLeaksFromText()
    {
        var gen = new PiiGenerator(seed: 11);
        for (int i = 0; i < Cases; i++)
        {
            string email = gen.Email();
            string text = gen.Embed(email);

            string result = Default.RedactText(text);

            Assert.DoesNotContain(email, result, StringComparison.Ordinal);
            Assert.DoesNotContain("@", result, StringComparison.Ordinal);
            Assert.Contains("[EMAIL]", result, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NoGeneratedIPv4AddressLeaksFromText()
    {
        var gen = new PiiGenerator(seed: 12);
        for (int i = 0; i < Cases; i++)
        {
            string ip = gen.IPv4();
            string text = gen.Embed(ip);

            string result = Default.RedactText(text);

            Assert.DoesNotContain(ip, result, StringComparison.Ordinal);
            Assert.Contains("[IP]", result, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NoGeneratedIPv6AddressLeaksFromText()
    {
        var gen = new PiiGenerator(seed: 13);
        for (int i = 0; i < Cases; i++)
        {
            string ip = gen.IPv6();
            string text = gen.Embed(ip);

            string result = Default.RedactText(text);

            Assert.DoesNotContain(ip, result, StringComparison.Ordinal);
            Assert.Contains("[IP]", result, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NoGeneratedLuhnValidCardNumberLeaksFromText()
    {
        var gen = new PiiGenerator(seed: 14);
        for (int i = 0; i < Cases; i++)
        {
            string card = gen.CardNumber();
            string text = gen.Embed(card);

            string result = Default.RedactText(text);

            Assert.DoesNotContain(card, result, StringComparison.Ordinal);
            Assert.Contains("[CARD]", result, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LuhnInvalidDigitRunsAreKept()
    {
        // Order ids that look like cards but fail the check digit must survive untouched.
        var gen = new PiiGenerator(seed: 15);
        for (int i = 0; i < Cases; i++)
        {
            string orderId = gen.LuhnInvalidNumber();
            string text = "order " + orderId + " shipped";

            Assert.Same(text, Default.RedactText(text));
        }
    }

    [Theory]
    [InlineData("4111111111111111")] // the Visa test number published by payment processors; passes Luhn
    [InlineData("4111 1111 1111 1111")]
    [InlineData("4111-1111-1111-1111")]
    [InlineData("378282246310005")] // the American Express test number (15 digits)
    public void WellKnownTestCardNumbersAreMasked(string card)
    {
        Assert.Equal("paid with [CARD] today", Default.RedactText("paid with " + card + " today"));
    }

    [Fact]
    public void ACardNextToAnUnrelatedNumberLosesOnlyTheCard()
    {
        // "4111111111111111 12" is one 18-digit candidate that fails Luhn as a whole; the 16 digits
        // of the Visa test number pass it, and the trailing 12 is not part of the card.
        Assert.Equal("card [CARD] 12 items", Default.RedactText("card 4111111111111111 12 items"));
    }

    [Fact]
    public void NoGeneratedJwtOrBearerTokenLeaks()
    {
        var gen = new PiiGenerator(seed: 16);
        for (int i = 0; i < Cases; i++)
        {
            string jwt = gen.Jwt();
            string token = gen.Token(20 + gen.Next(30));
            string[] forms =
            [
                "Authorization: Bearer " + jwt,
                "authorization=Bearer " + token,
                "calling with bearer " + token + " now",
                "{\"access_token\": \"" + token + "\"}",
                "token=" + token + "&x=1",
                gen.Embed(jwt),
            ];
            foreach (string text in forms)
            {
                string result = Default.RedactText(text);

                Assert.DoesNotContain(jwt, result, StringComparison.Ordinal);
                Assert.DoesNotContain(token, result, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void ABasicCredentialAfterAnAuthorizationHeaderIsMaskedWithItsScheme()
    {
        Assert.Equal("Authorization: [TOKEN]", Default.RedactText("Authorization: Basic dXNlcjpwYXNzd29yZA=="));
    }

    [Theory]
    [InlineData("GET /api/orders/{id}")]
    [InlineData("HTTP 500 after 12:30:45.120")] // a time is not an IPv6 address
    [InlineData("upgrade to version 1.4.2")] // three parts: not an IPv4 address
    [InlineData("nic 00:1a:2b:3c:4d:5e up")] // a MAC address does not parse as IPv6
    [InlineData("basic auth failed")] // "auth" is too short to be a credential
    [InlineData("ts=1700000000000 took 123 ms")] // epoch ms start with 1: not a card prefix
    [InlineData("std::vector overflow")]
    [InlineData("")]
    public void SafeTextComesBackUnchanged(string text)
    {
        Assert.Same(text, Default.RedactText(text));
    }

    [Fact]
    public void RedactAttributesReturnsTheSameListWhenNothingChanges()
    {
        IReadOnlyList<SpanAttribute> attributes = [new("http.route", "/pay"), new("http.response.status_code", "200")];

        Assert.Same(attributes, Default.RedactAttributes(attributes));
    }

    [Fact]
    public void RedactAttributesMasksDisallowedValuesAndPatternsInKeys()
    {
        IReadOnlyList<SpanAttribute> attributes =
        [
            new("http.route", "/pay"),
            new("enduser.id", "ada"),
            new("exception.message", "card 4111111111111111 declined"),
            new("ada@example.com", "x"),
        ];

        var result = Default.RedactAttributes(attributes);

        Assert.Equal(
            [
                new SpanAttribute("http.route", "/pay"),
                new SpanAttribute("enduser.id", "[REDACTED]"),
                new SpanAttribute("exception.message", "card [CARD] declined"),
                new SpanAttribute("[EMAIL]", "[REDACTED]"),
            ],
            result);
    }

    [Fact]
    public void RedactSpanMasksFreeTextFieldsAndKeepsIdsAndTimes()
    {
        var span = new SpanRecord
        {
            TraceId = 42,
            SpanId = 7,
            ParentSpanId = 3,
            Service = "cart",
            Name = "GET /users/ada@example.com",
            ServerAddress = "10.0.0.12",
            StartUnixNanos = 1_000,
            EndUnixNanos = 2_000,
            Status = SpanStatus.Error,
            Attributes = [new("user.email", "ada@example.com")],
        };

        var result = Default.RedactSpan(span);

        Assert.Equal("GET /users/[EMAIL]", result.Name);
        Assert.Equal("[IP]", result.ServerAddress);
        Assert.Equal("[REDACTED]", result.Attributes[0].Value);
        Assert.Equal((UInt128)42, result.TraceId);
        Assert.Equal(3UL, result.ParentSpanId);
        Assert.Equal(1_000, result.StartUnixNanos);
        Assert.Equal(SpanStatus.Error, result.Status);
    }

    [Fact]
    public void CustomPatternsFromConfigurationAreMaskedWithTheirName()
    {
        var redactor = new Redactor(new RedactionOptions
        {
            CustomPatterns = [new CustomRedactionPattern { Name = "customer", Pattern = @"CUST-\d{6}" }],
        });

        Assert.Equal("refund for [CUSTOMER] done", redactor.RedactText("refund for CUST-123456 done"));
        Assert.Equal(1, redactor.Counters.CustomMatches);
    }

    [Fact]
    public void AnInvalidCustomPatternFailsAtConstructionNamingTheSetting()
    {
        var options = new RedactionOptions { CustomPatterns = [new CustomRedactionPattern { Name = "x", Pattern = "(unclosed" }] };

        var ex = Assert.Throws<ArgumentException>(() => new Redactor(options));

        Assert.Contains("Redaction:CustomPatterns:0:Pattern", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APatternThatTimesOutMasksTheWholeValue()
    {
        // (a+)+$ backtracks exponentially on a run of 'a' that ends in '!': 2^40 paths, far beyond 1 ms.
        var redactor = new Redactor(new RedactionOptions
        {
            CustomPatterns = [new CustomRedactionPattern { Name = "evil", Pattern = "(a+)+$" }],
            CustomPatternTimeoutMs = 1,
        });

        string result = redactor.RedactText(new string('a', 40) + "!");

        Assert.Equal("[REDACTED]", result);
        Assert.Equal(1, redactor.Counters.Timeouts);
    }
}
