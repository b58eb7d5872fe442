using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;
using Xunit.Abstractions;

namespace Kaizen.Runner.Tests.Execution;

/// <summary>Secrets in real jobs: a real bash through <see cref="JobExecutor"/>, its output as the portal would get it.</summary>
public sealed class JobSecretsTests(ITestOutputHelper log) : IDisposable
{
    private const string Token = "tk-9f8e7d6c5b4a";
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private JobExecutor Executor() => new(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path));

    private string Workspace => new GitCheckout(_work.Path).WorkspacePath(42);

    private static JobAssignment Job(IReadOnlyList<JobSecret>? secrets, params string[] commands) => Job("", secrets, commands);

    private static JobAssignment Job(string gitUrl, IReadOnlyList<JobSecret>? secrets, params string[] commands) => new(
        JobId: 42,
        BuildId: 7,
        ProjectSlug: "acme/web",
        JobName: "deploy",
        GitUrl: gitUrl,
        Branch: "main",
        CommitSha: gitUrl.Length == 0 ? "" : new string('c', 40),
        Commands: [.. commands.Select((c, i) => new JobCommand(i, CommandPhase.Main, c))],
        Environment: new Dictionary<string, string> { ["PLAIN"] = "plain" },
        LeaseSeconds: 60,
        Secrets: secrets);

    private async Task<(JobResult Result, RecordingOutput Output)> RunAsync(JobAssignment job)
    {
        var output = new RecordingOutput();
        var result = await Executor().RunAsync(job, output, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        return (result, output);
    }

    [Fact]
    public async Task An_echoed_secret_shows_as_stars_and_the_command_still_sees_its_value()
    {
        var (result, output) = await RunAsync(Job([new JobSecret("TOKEN", Token)],
            "echo \"token is $TOKEN\"; env | grep ^TOKEN=; [ \"${#TOKEN}\" = 15 ] && [ \"${TOKEN:0:3}\" = tk- ] && echo length ok"));

        Assert.Equal(new JobResult(JobOutcome.Passed), result);
        Assert.Equal("token is ***\nTOKEN=***\nlength ok\n", output.Text(0));
    }

    [Fact]
    public async Task A_secret_printed_in_two_parts_with_a_pause_between_is_masked()
    {
        var (_, output) = await RunAsync(Job([new JobSecret("TOKEN", Token)],
            "printf 'before %s' \"${TOKEN:0:7}\"; sleep 0.3; printf '%s after\\n' \"${TOKEN:7}\""));

        Assert.Equal("before *** after\n", output.Text(0));
    }

    [Fact]
    public async Task A_secret_inside_a_very_long_line_is_masked_wherever_the_pipe_reads_cut_it()
    {
        int[] runs = [65_530, 65_533, 65_536, 65_539, 131_068, 200_001];
        var (_, output) = await RunAsync(Job([new JobSecret("TOKEN", Token)],
            $"for n in {string.Join(' ', runs)}; do head -c $n /dev/zero | tr '\\0' x; printf %s \"$TOKEN\"; done; echo"));

        Assert.Equal(string.Concat(runs.Select(n => new string('x', n) + "***")) + "\n", output.Text(0));
    }

    [Fact]
    public async Task Each_line_of_a_multi_line_secret_is_masked_wherever_it_is_printed()
    {
        const string key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";
        var (_, output) = await RunAsync(Job([new JobSecret("KEY", key)],
            "echo \"$KEY\"; echo \"second: $(echo \"$KEY\" | sed -n 2p)\"; grep -c . <<< \"$KEY\"; echo \"$KEY\" | tac"));

        var text = output.Text(0);
        foreach (var line in key.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.DoesNotContain(line, text);
        }

        Assert.Equal("***\nsecond: ***\n4\n\n***\n***\n***\n***\n", text);
    }

    [Fact]
    public async Task A_100_byte_secret_through_wrapped_base64_base64url_JSON_and_lower_case_URL_escaping_never_appears_in_the_log()
    {
        // No upper-case letters: the URL command lower-cases its whole output, not only the escapes' hex digits.
        var secret = "p&ss/w0rd \"q\\<z>+%é~" + string.Concat(Enumerable.Range(0, 8).Select(i => $"{i}-tok/+=&")) + "-end-xy";
        Assert.Equal(100, Encoding.UTF8.GetByteCount(secret));
        string[] commands =
        [
            "printf %s \"$S\" | base64",
            "echo \"$S\" | base64",
            "printf %s \"$S\" | base64 -w0 | tr '+/' '-_'; echo",
            "printf %s \"$S\" | jq -Rs .",
            "echo \"$S\" | jq -Rs .",
            "python3 -c 'import json,sys;print(json.dumps(sys.argv[1]))' \"$S\"",
            "python3 -c 'import json,sys;print(json.dumps(sys.argv[1], ensure_ascii=False))' \"$S\"",
            "python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1]).lower())' \"$S\"",
            "python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1], safe=\"\"))' \"$S\"",
        ];

        var (result, output) = await RunAsync(Job([new JobSecret("S", secret)], commands));

        Assert.Equal(new JobResult(JobOutcome.Passed), result);
        for (var i = 0; i < commands.Length; i++)
        {
            var lines = output.Text(i).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            log.WriteLine($"{commands[i]}\n  {string.Join("\n  ", lines)}");
            Assert.NotEmpty(lines);
            // Each line is masked whole, but for the quotes around a JSON string or the last base64 group
            // (the value's final byte, echo's newline and padding).
            Assert.All(lines, line => Assert.True(line.Contains("***", StringComparison.Ordinal) && line.Replace("***", "").Length <= 4, line));
        }
    }

    [Fact]
    public async Task A_file_secret_has_its_content_and_mode_600_its_variable_holds_its_path_and_it_is_deleted_afterwards()
    {
        const string cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ\n-----END CERTIFICATE-----\n";
        const string config = "{\"password\": \"p4ssw0rd-xyz\"}";
        var absolute = _work.Combine("elsewhere", "deep", "config.json");
        var expectedHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(cert)))[..16];
        var job = Job([new JobSecret("CERT", cert, "certs/deploy.pem"), new JobSecret("CONFIG", config, absolute), new JobSecret("TOKEN", Token)],
            "sha256sum \"$CERT\" | cut -c1-16; stat -c %a \"$CERT\" \"$CONFIG\"; echo \"$CERT\"; echo \"$CONFIG\"; cat \"$CONFIG\"; echo; echo \"$TOKEN\"");

        var (result, output) = await RunAsync(job);

        Assert.Equal(new JobResult(JobOutcome.Passed), result);
        Assert.Equal(
            $"{expectedHash}\n600\n600\n{Path.Combine(Workspace, "certs", "deploy.pem")}\n{absolute}\n***\n***\n",
            output.Text(0));
        Assert.False(File.Exists(absolute));
        Assert.False(Directory.Exists(Workspace));
    }

    [Fact]
    public async Task A_secret_file_path_that_leaves_the_workspace_fails_the_job_before_any_command()
    {
        var (result, output) = await RunAsync(Job([new JobSecret("CERT", "cert-content", "certs/../../escape.pem")], "echo never"));

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Equal("The secret file path 'certs/../../escape.pem' leaves the workspace; use a relative path inside it or an absolute path.", result.Error);
        Assert.Equal(["0:Skipped"], output.Events);
        Assert.Contains(result.Error!, output.Text(null));
        Assert.False(File.Exists(Path.Combine(_work.Path, "jobs", "escape.pem")));
    }

    [Fact]
    public async Task A_secret_file_is_not_written_through_a_symbolic_link_in_the_repository()
    {
        using var repo = await GitRepo.CreateAsync();
        var outside = _work.Combine("outside");
        Directory.CreateDirectory(outside);
        File.CreateSymbolicLink(Path.Combine(repo.Path, "certs"), outside);
        var sha = await repo.CommitAsync("link", ("README", "hi\n"));
        var job = Job(repo.Path, [new JobSecret("CERT", "cert-content", "certs/deploy.pem")], "echo never") with { CommitSha = sha };

        var (result, output) = await RunAsync(job);

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.Contains("symbolic link 'certs'", result.Error);
        Assert.Equal(["0:Skipped"], output.Events);
        Assert.Empty(Directory.GetFiles(outside));
    }

    [Fact]
    public async Task Runner_variables_win_over_secrets_and_secrets_over_plain_variables()
    {
        var (_, output) = await RunAsync(Job([new JobSecret("KAIZEN_BRANCH", "evil-branch"), new JobSecret("PLAIN", "from-the-secret")],
            "echo \"$KAIZEN_BRANCH $PLAIN\""));

        Assert.Equal("main ***\n", output.Text(0));
    }

    [Fact]
    public async Task A_job_without_secrets_gets_its_output_byte_for_byte_and_so_does_one_whose_secrets_never_appear()
    {
        const string command = "printf '\\xff\\xfe\\xc3('; head -c 1048576 /dev/zero | tr '\\0' a; printf '\\x80\\x00end\\xe2\\x82'";
        byte[] expected = [0xff, 0xfe, 0xc3, (byte)'(', .. Enumerable.Repeat((byte)'a', 1 << 20), 0x80, 0x00, .. "end"u8.ToArray(), 0xe2, 0x82];

        var (_, plain) = await RunAsync(Job(null, command));
        var (_, masked) = await RunAsync(Job([new JobSecret("TOKEN", Token), new JobSecret("KEY", "line one\nline two\n")], command));

        Assert.Equal(expected, plain.Bytes(0));
        Assert.Equal(expected, masked.Bytes(0));
    }

    [Fact]
    public async Task A_secret_in_the_checkout_url_and_its_error_is_masked()
    {
        var url = _work.Combine("repos", Token, "app.git");

        var (result, output) = await RunAsync(Job(url, [new JobSecret("TOKEN", Token)], "echo never"));

        Assert.Equal(JobOutcome.Failed, result.Outcome);
        Assert.DoesNotContain(Token, result.Error);
        Assert.Contains("repos/***/app.git", result.Error);
        Assert.DoesNotContain(Token, output.Text(null));
        Assert.Contains("Checkout failed", output.Text(null));
        Assert.Contains("repos/***/app.git", output.Text(null));
    }

    [Fact]
    public async Task The_hold_back_does_not_lose_or_misplace_the_last_bytes_of_a_command()
    {
        // Each command ends with what could be the beginning of the secret: held back, then sent before the command ends.
        var (_, output) = await RunAsync(Job([new JobSecret("TOKEN", Token)],
            "printf 'first ends with tk-9f8e'",
            "printf '7d6c5b4a second'; printf ' tk-9'; exit 3",
            "echo skipped"));

        Assert.Equal("first ends with tk-9f8e", output.Text(0));
        Assert.Equal("7d6c5b4a second tk-9", output.Text(1));
        Assert.Equal(
            ["Started 0", "Write 0", "Finished 0", "Started 1", "Write 1", "Finished 1", "Skipped 2"],
            output.Sequence.Where((s, i) => i == 0 || s != output.Sequence[i - 1]));
    }

    [Fact]
    public async Task A_canceled_command_keeps_its_last_bytes_and_a_prompt_shows_while_it_waits()
    {
        using var cts = new CancellationTokenSource();
        var output = new RecordingOutput { OnWrite = o => { if (o.Text(0).Contains("Password: ")) { cts.Cancel(); } } };
        var job = Job([new JobSecret("TOKEN", Token)], "printf 'Password: '; sleep 1000");

        var result = await Executor().RunAsync(job, output, cts.Token).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(JobOutcome.Canceled, result.Outcome);
        Assert.Equal("Password: ", output.Text(0));
        Assert.Equal(["0:Finished:130"], output.Events);
    }

    [Fact]
    public async Task Masking_100_MB_of_command_output_stays_fast()
    {
        const string command = "head -c 104857600 /dev/zero | tr '\\0' 'k'";
        var key = "-----BEGIN PRIVATE KEY-----\n" + string.Join('\n', Enumerable.Range(0, 25).Select(i => $"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC{i:D3}")) + "\n-----END PRIVATE KEY-----\n";
        JobSecret[] secrets = [new("TOKEN", Token), new("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), new("KEY", key, "key.pem")];

        await TimeAsync(Job(null, command)); // warm-up: page cache, JIT
        var (plainTime, plainBytes) = await TimeAsync(Job(null, command));
        var (maskedTime, maskedBytes) = await TimeAsync(Job(secrets, command));

        Assert.Equal(100L << 20, plainBytes);
        Assert.Equal(100L << 20, maskedBytes);
        log.WriteLine($"100 MB through a job: {plainTime.TotalMilliseconds:F0} ms without secrets, {maskedTime.TotalMilliseconds:F0} ms with {secrets.Length} secrets (a 27-line key among them)");

        async Task<(TimeSpan, long)> TimeAsync(JobAssignment job)
        {
            var counter = new CountingOutput();
            var stopwatch = Stopwatch.StartNew();
            var result = await Executor().RunAsync(job, counter, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(JobOutcome.Passed, result.Outcome);
            return (stopwatch.Elapsed, counter.Bytes);
        }
    }

    /// <summary>Counts bytes and keeps nothing.</summary>
    private sealed class CountingOutput : IJobOutput
    {
        public long Bytes { get; private set; }

        public ValueTask WriteAsync(int? commandIndex, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (commandIndex is not null)
            {
                Bytes += data.Length;
            }

            return ValueTask.CompletedTask;
        }

        public void CommandStarted(int index, long atUnixMs)
        {
        }

        public void CommandFinished(int index, int exitCode, long durationMs, long atUnixMs)
        {
        }

        public void CommandSkipped(int index, long atUnixMs)
        {
        }
    }

    /// <summary>Keeps raw bytes per command and the order in which writes and events arrived.</summary>
    private sealed class RecordingOutput : IJobOutput
    {
        private readonly object _lock = new();
        private readonly Dictionary<int, MemoryStream> _logs = [];
        private readonly MemoryStream _jobLog = new();

        public List<string> Sequence { get; } = [];

        public List<string> Events { get; } = [];

        public Action<RecordingOutput>? OnWrite { get; set; }

        public ValueTask WriteAsync(int? commandIndex, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            Assert.False(data.IsEmpty);
            lock (_lock)
            {
                var target = commandIndex is { } i ? (_logs.TryGetValue(i, out var s) ? s : _logs[i] = new MemoryStream()) : _jobLog;
                target.Write(data.Span);
                Sequence.Add(commandIndex is { } c ? $"Write {c}" : "Write job");
            }

            OnWrite?.Invoke(this);
            return ValueTask.CompletedTask;
        }

        public void CommandStarted(int index, long atUnixMs) => Add($"Started {index}");

        public void CommandFinished(int index, int exitCode, long durationMs, long atUnixMs)
        {
            Add($"Finished {index}");
            lock (_lock)
            {
                Events.Add($"{index}:Finished:{exitCode}");
            }
        }

        public void CommandSkipped(int index, long atUnixMs)
        {
            Add($"Skipped {index}");
            lock (_lock)
            {
                Events.Add($"{index}:Skipped");
            }
        }

        public byte[] Bytes(int? commandIndex)
        {
            lock (_lock)
            {
                var stream = commandIndex is { } i ? (_logs.TryGetValue(i, out var s) ? s : null) : _jobLog;
                return stream?.ToArray() ?? [];
            }
        }

        public string Text(int? commandIndex) => Encoding.UTF8.GetString(Bytes(commandIndex));

        private void Add(string entry)
        {
            lock (_lock)
            {
                Sequence.Add(entry);
            }
        }
    }
}
