using System.Diagnostics;
using System.Text;
using Kaizen.Runner.Execution;
using Xunit.Abstractions;

namespace Kaizen.Runner.Tests.Execution;

public sealed class SecretMaskerTests(ITestOutputHelper log)
{
    private static SecretMasker Masker(params string[] values)
    {
        var masker = new SecretMasker();
        foreach (var value in values)
        {
            masker.Add(value);
        }

        return masker;
    }

    /// <summary>Feeds <paramref name="pieces"/> one by one, then flushes; returns everything that came out.</summary>
    private static byte[] Run(SecretMasker masker, params byte[][] pieces)
    {
        var filter = masker.CreateFilter();
        var output = new MemoryStream();
        foreach (var piece in pieces)
        {
            output.Write(filter.Write(piece).Span);
        }

        output.Write(filter.Flush().Span);
        Assert.Equal(0, filter.Pending);
        return output.ToArray();
    }

    private static string Run(SecretMasker masker, params string[] pieces) =>
        Encoding.UTF8.GetString(Run(masker, [.. pieces.Select(Encoding.UTF8.GetBytes)]));

    [Fact]
    public void Every_occurrence_of_a_secret_is_replaced_by_stars()
    {
        var masker = Masker("hunter2");

        Assert.Equal("pw=*** again *** end", Run(masker, "pw=hunter2 again hunter2 end"));
        Assert.Equal("pw=*** again *** end", masker.MaskText("pw=hunter2 again hunter2 end"));
    }

    [Fact]
    public void A_secret_split_at_every_possible_point_across_two_writes_is_masked()
    {
        var masker = Masker("s3cr3t-value");
        var text = "before s3cr3t-value after";
        for (var cut = 0; cut <= text.Length; cut++)
        {
            Assert.Equal("before *** after", Run(masker, text[..cut], text[cut..]));
        }
    }

    [Fact]
    public void A_secret_written_one_byte_at_a_time_is_masked()
    {
        var masker = Masker("s3cr3t-value", "other");
        var text = "x s3cr3t-value y other z";

        Assert.Equal("x *** y *** z", Run(masker, [.. text.Select(c => c.ToString())]));
    }

    [Fact]
    public void Only_an_end_that_could_begin_a_secret_is_held_back()
    {
        var filter = Masker("s3cr3t-value").CreateFilter();

        Assert.Equal("Password: ", Encoding.UTF8.GetString(filter.Write("Password: "u8).Span));
        Assert.Equal("token ", Encoding.UTF8.GetString(filter.Write("token s3cr"u8).Span));
        Assert.Equal(4, filter.Pending);
        Assert.Equal("s3cr!", Encoding.UTF8.GetString(filter.Write("!"u8).Span));
        Assert.Equal(0, filter.Pending);
    }

    [Fact]
    public void Overlapping_and_repeated_occurrences_become_one_mask_and_the_hold_back_stays_bounded()
    {
        var masker = Masker("aXa", "abcabc");

        Assert.Equal("[***]", Run(masker, "[aXaXa]"));
        Assert.Equal("[***]", Run(masker, "[aX", "aX", "a]"));
        Assert.Equal("[***]", Run(masker, "[abcab", "cabcabc", "]"));

        // A megabyte of back-to-back occurrences, fed in small pieces: one mask, and never more held back than a secret.
        var filter = masker.CreateFilter();
        var output = new MemoryStream();
        var piece = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("aX", 500)));
        for (var i = 0; i < 1000; i++)
        {
            output.Write(filter.Write(piece).Span);
            Assert.True(filter.Pending < "abcabc".Length);
        }

        output.Write(filter.Write("a!"u8).Span);
        output.Write(filter.Flush().Span);
        Assert.Equal("***!", Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public void Each_non_trivial_line_of_a_multi_line_secret_is_masked()
    {
        var masker = Masker("-----BEGIN KEY-----\r\nMIIEvQIBADANBgkqhkiG\n  9w0BAQEFAASC  \n}\n\n-----END KEY-----\n");

        Assert.Equal("a *** b", Run(masker, "a MIIEvQIBADANBgkqhkiG b"));
        Assert.Equal("*** ***", Run(masker, "9w0BAQEFAASC -----END KEY-----"));
        Assert.Equal("***\n", Run(masker, "-----BEGIN KEY-----\n"));
        Assert.Equal("{ } stays", Run(masker, "{ } stays")); // a one-character line is not a secret worth masking
    }

    [Fact]
    public void Values_shorter_than_the_minimum_are_not_masked()
    {
        var masker = Masker("", "a", "no");

        Assert.True(masker.IsEmpty);
        Assert.Equal("a banana, no", Run(masker, "a banana, no"));
        Assert.Equal(3, SecretMasker.MinimumLength);
        Assert.Equal("***", Run(Masker("abc"), "abc"));
    }

    [Fact]
    public void Base64_and_URL_escaped_forms_of_a_secret_are_masked()
    {
        const string secret = "p@ss word/42!";
        var masker = Masker(secret);

        // At each alignment, everything but at most two characters at either end of the encoding is masked.
        foreach (var prefix in new[] { "", "u", "us", "user:" })
        {
            var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(prefix + secret));
            var masked = Run(masker, "Authorization: Basic " + encoded);
            Assert.Contains("***", masked);
            Assert.True(masked.Length <= "Authorization: Basic ".Length + 3 + 4 + 4, masked);
        }

        Assert.Equal("https://u:***@example.com", Run(masker, "https://u:" + Uri.EscapeDataString(secret) + "@example.com"));
    }

    [Fact]
    public void Base64_wrapped_at_76_columns_is_masked_line_by_line_and_short_last_lines_are_not_patterns()
    {
        var secret = string.Concat(Enumerable.Range(0, 15).Select(i => $"k{i:x}/+&<\"é-x")); // 165 bytes: three lines
        var masker = Masker(secret);
        var wrapped = Convert.ToBase64String(Encoding.UTF8.GetBytes(secret + "\n"), Base64FormattingOptions.InsertLineBreaks)
            .Replace("\r\n", "\n", StringComparison.Ordinal);
        var lines = wrapped.Split('\n');
        Assert.Equal(3, lines.Length);

        // Every full line is masked; the last one too but for the group holding the value's end and echo's newline.
        var masked = Run(masker, wrapped + "\n").Split('\n');
        Assert.Equal(["***", "***"], masked[..2]);
        Assert.StartsWith("***", masked[2], StringComparison.Ordinal);
        Assert.True(masked[2].Length <= 3 + 4, masked[2]);

        // A value whose last wrapped line is only a few characters long: that line is no pattern of its own.
        var shorter = new string('q', 60); // base64: 76 + 4 characters
        var last = Convert.ToBase64String(Encoding.UTF8.GetBytes(shorter))[76..];
        Assert.DoesNotContain(Masker(shorter).Patterns, p => Encoding.UTF8.GetString(p) == last);
    }

    [Fact]
    public void Base64url_lower_case_URL_escaping_and_JSON_escaped_forms_of_a_secret_are_masked()
    {
        const string secret = "a/b+c?d&e<f>\"g\\h\ni\tj\u0001k\u007fé€😀 z~";
        var masker = Masker(secret);
        var bytes = Encoding.UTF8.GetBytes(secret);
        var base64url = Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var upper = Uri.EscapeDataString(secret);
        var lower = System.Text.RegularExpressions.Regex.Replace(upper, "%[0-9A-F]{2}", m => m.Value.ToLowerInvariant());

        string[] forms =
        [
            base64url,
            upper,
            lower,
            lower.Replace("%2f", "/", StringComparison.Ordinal), // Python's quote leaves '/' alone
            System.Text.Json.JsonSerializer.Serialize(secret),
            System.Text.Json.JsonSerializer.Serialize(secret, new System.Text.Json.JsonSerializerOptions
            {
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            }),
            // As jq writes it (lower-case hex for control characters, non-ASCII as is) and as Python's json.dumps does.
            "\"a/b+c?d&e<f>\\\"g\\\\h\\ni\\tj\\u0001k\\u007fé€😀 z~\"",
            "\"a/b+c?d&e<f>\\\"g\\\\h\\ni\\tj\\u0001k\\u007f\\u00e9\\u20ac\\ud83d\\ude00 z~\"",
        ];
        foreach (var form in forms)
        {
            var masked = Run(masker, "<" + form + ">");
            Assert.Contains("***", masked);
            // Base64url keeps at most the last one or two bytes' characters; the escaped forms keep their quotes only.
            Assert.True(masked.Length <= "<***>".Length + 3, $"{form} -> {masked}");
        }
    }

    [Fact]
    public void Invalid_UTF8_around_a_secret_is_kept_and_the_secret_masked()
    {
        var masker = Masker("tøken-value");
        byte[] before = [0xff, 0xfe, 0xc3];
        byte[] after = [0x80, 0x00, 0xe2, 0x82];
        var secret = Encoding.UTF8.GetBytes("tøken-value");

        var output = Run(masker, [.. before, .. secret[..3]], [.. secret[3..], .. after]);

        Assert.Equal([.. before, .. "***"u8.ToArray(), .. after], output);
    }

    [Fact]
    public void Data_without_secrets_comes_out_byte_for_byte_whatever_the_cuts()
    {
        var masker = Masker("not-in-the-data", "-----BEGIN\nsecond line here");
        var random = new Random(7);
        var data = new byte[300_000];
        random.NextBytes(data);

        var pieces = new List<byte[]>();
        for (var offset = 0; offset < data.Length;)
        {
            var size = Math.Min(random.Next(1, 5000), data.Length - offset);
            pieces.Add(data[offset..(offset + size)]);
            offset += size;
        }

        Assert.Equal(data, Run(masker, [.. pieces]));
    }

    [Fact]
    public void Random_cuts_give_the_same_result_as_masking_all_at_once()
    {
        var random = new Random(11);
        const string alphabet = "abcXY\n";
        for (var round = 0; round < 300; round++)
        {
            var secrets = Enumerable.Range(0, random.Next(1, 4))
                .Select(_ => new string([.. Enumerable.Range(0, random.Next(3, 7)).Select(_ => alphabet[random.Next(4)])]))
                .ToArray();
            var masker = Masker(secrets);
            var text = new string([.. Enumerable.Range(0, random.Next(0, 200)).Select(_ => alphabet[random.Next(alphabet.Length)])]);

            var whole = Run(masker, text);
            var pieces = new List<string>();
            for (var offset = 0; offset < text.Length;)
            {
                var size = Math.Min(random.Next(1, 9), text.Length - offset);
                pieces.Add(text.Substring(offset, size));
                offset += size;
            }

            Assert.Equal(whole, Run(masker, [.. pieces]));
            Assert.All(secrets, s => Assert.DoesNotContain(s, whole));
        }
    }

    [Fact]
    public void Masking_100_MB_of_output_is_fast()
    {
        // A handful of secrets as a deploy job would have: keys, a password, a multi-line private key.
        var pem = "-----BEGIN PRIVATE KEY-----\n" + string.Join('\n', Enumerable.Range(0, 25).Select(i => $"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC{i:D3}")) + "\n-----END PRIVATE KEY-----\n";
        var masker = Masker("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "correct horse battery staple", pem);
        var line = Encoding.ASCII.GetBytes("2025-06-01T12:00:00Z INFO building module 42 of 97, compiling src/app/services/orders.cs ... ok\n");
        var chunk = new byte[64 * 1024];
        for (var i = 0; i < chunk.Length; i++)
        {
            chunk[i] = line[i % line.Length];
        }

        "secret: AKIAIOSFODNN7EXAMPLE\n"u8.CopyTo(chunk.AsSpan(1000));
        const long total = 100L << 20;
        var filter = masker.CreateFilter();
        long written = 0;
        // CPU time too (the whole process's, so run this test alone): on a busy machine the wall time says more about
        // the neighbours than about the masker.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        for (long fed = 0; fed < total; fed += chunk.Length)
        {
            written += filter.Write(chunk).Length;
        }

        written += filter.Flush().Length;
        stopwatch.Stop();

        Assert.Equal(total - ((total / chunk.Length) * ("AKIAIOSFODNN7EXAMPLE".Length - 3)), written);
        var rate = total / (1 << 20) / stopwatch.Elapsed.TotalSeconds;
        log.WriteLine($"Masked 100 MB with {masker.Patterns.Count} patterns (longest {masker.LongestPattern} bytes) in {stopwatch.ElapsedMilliseconds} ms: {rate:F0} MB/s, {(Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds:F0} ms of CPU");
    }
}
