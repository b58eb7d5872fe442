using System.Diagnostics;
using System.Text;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// The portal listens where the usual .NET conventions say: <c>ASPNETCORE_URLS</c>, <c>--urls</c> or <c>Urls</c>
/// override the default of http://localhost:5000 (which is Kestrel's own default, so no setting of ours outranks them).
/// The portal runs as its own process from its build output, with its real <c>appsettings.json</c>.
/// </summary>
public sealed class ListenAddressTests
{
    [Fact]
    public async Task ASPNETCORE_URLS_chooses_where_the_portal_listens()
    {
        var port = PortalHost.FreePort();
        await AssertListensAsync(port, environment: new() { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" }, arguments: []);
    }

    [Fact]
    public async Task The_urls_argument_chooses_where_the_portal_listens()
    {
        var port = PortalHost.FreePort();
        await AssertListensAsync(port, environment: [], arguments: ["--urls", $"http://127.0.0.1:{port}"]);
    }

    [Fact]
    public void The_shipped_settings_leave_the_address_to_the_usual_conventions()
    {
        var settings = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "appsettings.json"));
        Assert.DoesNotContain("\"Urls\"", settings, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task AssertListensAsync(int port, Dictionary<string, string> environment, string[] arguments)
    {
        using var data = new TempDirectory();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory, // so the shipped appsettings.json is read, as with `dotnet run`
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Kaizen.Portal.dll"));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("URLS");
        start.Environment["Kaizen__DataDirectory"] = data.Path;
        start.Environment["Kaizen__Runners__Embedded__Enabled"] = "false";
        start.Environment["Kaizen__Bootstrap__AdminPassword"] = "listen-test-password";
        foreach (var (k, v) in environment) start.Environment[k] = v;
        var output = new StringBuilder();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (true)
            {
                Assert.False(process.HasExited, $"the portal exited:\n{Output(output)}");
                try
                {
                    var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
                    Assert.True(response.IsSuccessStatusCode, $"healthz answered {(int)response.StatusCode}");
                    break;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(250);
                }
            }
            Assert.Contains($"127.0.0.1:{port}", Output(output));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static string Output(StringBuilder output)
    {
        lock (output) return output.ToString();
    }
}
