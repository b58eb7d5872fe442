using System.Net;
using Kaizen.Runner.Checkout;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Protocol;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary><c>kaizen artifact</c> in a real job shell against a stand-in portal: what it checks before sending, how it
/// sends the job's token, and how it reads the portal's answers. (Whole round trips: Kaizen.Portal.Tests/Artifacts.)</summary>
public sealed class KaizenArtifactTests : IAsyncLifetime
{
    private const string Token = "kzj_test_token";
    private readonly TempDirectory _work = new();
    private readonly HttpListener _portal = new();
    private readonly List<(string Method, string Path, string? Authorization)> _requests = [];
    private Func<HttpListenerContext, Task> _answer = c => Respond(c, 404, "{\"detail\":\"No such thing.\"}");
    private JobShell _shell = null!;
    private Task _serving = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var port = FreePort();
        _portal.Prefixes.Add($"http://127.0.0.1:{port}/");
        _portal.Start();
        _serving = Task.Run(ServeAsync);
        var functions = new KaizenFunctions(_work.Path) { PortalUrl = new Uri($"http://127.0.0.1:{port}/") };
        _shell = await JobShell.StartAsync(functions, _work.Combine("workspace"), Token, ("app.txt", "hello\n"));
    }

    public async Task DisposeAsync()
    {
        await _shell.DisposeAsync();
        _portal.Stop();
        await _serving.ContinueWith(_ => { });
        _work.Dispose();
    }

    [Theory]
    [InlineData("kaizen artifact push app.txt ../x", "'../x' holds a '..' segment")]
    [InlineData("kaizen artifact push app.txt /abs/x", "'/abs/x' is an absolute path")]
    [InlineData("kaizen artifact push app.txt \"$(printf 'a\\033b')\"", "control character")]
    [InlineData("kaizen artifact push missing.txt", "'missing.txt' does not exist")]
    [InlineData("kaizen artifact push --everywhere app.txt", "unknown option '--everywhere'")]
    [InlineData("kaizen artifact pull --wait soon app.txt", "--wait takes a number of seconds")]
    [InlineData("kaizen artifact pull", "give NAME")]
    [InlineData("kaizen artifact fetch x", "Usage:")]
    public async Task Bad_arguments_are_refused_before_anything_is_sent(string command, string message)
    {
        // Act
        var (exitCode, output) = await _shell.RunAsync(command);

        // Assert
        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output);
        Assert.Empty(_requests);
    }

    [Fact]
    public async Task Without_a_portal_the_command_says_what_is_missing()
    {
        // Arrange: a runner without a portal (its caches are a folder of its own; artifacts have nowhere to go).
        await using var shell = await JobShell.StartAsync(new KaizenFunctions(_work.Combine("alone")), _work.Combine("alone-ws"), ("app.txt", "hello\n"));

        // Act
        var (exitCode, output) = await shell.RunAsync("kaizen artifact pull app.txt");

        // Assert
        Assert.Equal((2, "artifact: this job has no portal to push to or pull from; artifacts work inside Kaizen jobs only\n"),
            (exitCode, output));
    }

    [Fact]
    public async Task The_token_stays_in_the_runner_and_a_job_variable_does_not_replace_it()
    {
        // Arrange
        _answer = c => Respond(c, 201, "{}");

        // Act: the job's own variable is not what the runner sends.
        var (exitCode, _) = await _shell.RunAsync("KAIZEN_JOB_TOKEN=forged kaizen artifact push app.txt");

        // Assert
        Assert.Equal(0, exitCode);
        Assert.Equal([("PUT", "/api/jobs/artifacts/build/app.txt?folder=0", $"Bearer {Token}")], _requests);
    }

    [Fact]
    public async Task A_push_sends_the_file_with_the_jobs_token_to_an_encoded_path()
    {
        // Arrange
        _answer = c => Respond(c, 201, "{}");

        // Act
        var (exitCode, output) = await _shell.RunAsync("kaizen artifact push --project app.txt 'cli/app 1.txt'");

        // Assert
        Assert.Equal(0, exitCode);
        Assert.StartsWith("artifact: pushed cli/app 1.txt (project, 1 KB) in ", output);
        Assert.Equal([("PUT", "/api/jobs/artifacts/project/cli/app%201.txt?folder=0", $"Bearer {Token}")], _requests);
    }

    [Fact]
    public async Task A_pull_waits_while_the_portal_says_it_may_still_come_and_gives_up_after_the_wait()
    {
        // Arrange
        _answer = c =>
        {
            c.Response.Headers["Retry-After"] = "2";
            return Respond(c, 404, "{\"detail\":\"Not yet; 1 other job(s) of the build may still push it.\"}");
        };

        // Act
        var (exitCode, output) = await _shell.RunAsync("kaizen artifact pull --wait 0 out.tar.gz");

        // Assert
        Assert.Equal((1, "artifact pull: 'out.tar.gz' did not arrive within 0s (--wait)\n"), (exitCode, output));
    }

    [Fact]
    public async Task A_pull_of_an_artifact_no_job_can_push_any_more_fails_at_once_with_the_portals_reason()
    {
        // Act
        var (exitCode, output) = await _shell.RunAsync("kaizen artifact pull out.tar.gz");

        // Assert
        Assert.Equal((1, "artifact pull: No such thing.\n"), (exitCode, output));
        Assert.Single(_requests);
    }

    [Fact]
    public async Task A_pulled_folder_is_unpacked_and_a_pulled_file_is_written_where_asked()
    {
        // Arrange: a folder packed as the push packs it.
        Assert.Equal(0, (await _shell.RunAsync("mkdir -p src/out && echo inside > src/out/a.txt && tar -czf ../packed.tar.gz -C src/out .")).ExitCode);
        var packed = await File.ReadAllBytesAsync(_work.Combine("packed.tar.gz"));
        _answer = c =>
        {
            var folder = c.Request.Url!.AbsolutePath.EndsWith("out.tar.gz", StringComparison.Ordinal);
            c.Response.Headers["Kaizen-Artifact-Folder"] = folder ? "true" : "false";
            return Respond(c, 200, folder ? packed : "plain\n"u8.ToArray());
        };

        // Act
        var folderPull = await _shell.RunAsync("kaizen artifact pull out.tar.gz && cat out/a.txt");
        var filePull = await _shell.RunAsync("kaizen artifact pull notes/readme.txt docs/ && cat docs/readme.txt");

        // Assert
        Assert.Equal(0, folderPull.ExitCode);
        Assert.EndsWith("inside\n", folderPull.Output);
        Assert.Equal(0, filePull.ExitCode);
        Assert.Contains("to docs/readme.txt", filePull.Output);
        Assert.EndsWith("plain\n", filePull.Output);
    }

    [Fact]
    public async Task The_job_token_reaches_the_shell_as_a_variable_and_is_masked_in_the_log()
    {
        // Arrange
        using var repo = await GitRepo.CreateAsync();
        var sha = await repo.CommitAsync("first", ("a.txt", "a\n"));
        var functions = new KaizenFunctions(_work.Path) { PortalUrl = new Uri("http://portal.example:5000/") };
        var executor = new JobExecutor(_work.Path, new ShellExecutor(), new GitCheckout(_work.Path), functions: functions);
        var output = new MemoryJobOutput();
        var job = new JobAssignment(9, 7, "acme/web", "test", repo.Path, "main", sha,
            [new JobCommand(0, CommandPhase.Main, "echo \"$KAIZEN_PORTAL_URL $KAIZEN_JOB_TOKEN ${#KAIZEN_JOB_TOKEN}\"")],
            new Dictionary<string, string>(), 60, JobToken: "kzj_secret_value");

        // Act
        var result = await executor.RunAsync(job, output, CancellationToken.None);

        // Assert
        Assert.Equal(JobOutcome.Passed, result.Outcome);
        Assert.Equal("http://portal.example:5000 *** 16\n", output.Log(0));
    }

    private async Task ServeAsync()
    {
        while (_portal.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _portal.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            await context.Request.InputStream.CopyToAsync(Stream.Null);
            lock (_requests)
            {
                _requests.Add((context.Request.HttpMethod, context.Request.RawUrl!, context.Request.Headers["Authorization"]));
            }

            await _answer(context);
        }
    }

    private static Task Respond(HttpListenerContext context, int status, string body) =>
        Respond(context, status, System.Text.Encoding.UTF8.GetBytes(body));

    private static async Task Respond(HttpListenerContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        await context.Response.OutputStream.WriteAsync(body);
        context.Response.Close();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
