using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bunit;
using Bunit.TestDoubles;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Components.Layout;
using Kaizen.Portal.Hosting;
using Kaizen.Runner.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// The portal's data folder on a small tmpfs that a test fills while a job streams its output through a real runner:
/// writes answer 507 with a message (never an HTML page, an empty 500 or a server path) to the API, the runner and the
/// job's own calls, reads with an API token keep
/// working, /healthz and the admins' banner say why, and once space is freed the job's whole log arrives, in order and
/// without duplicates, and the job passes.
/// </summary>
public sealed class DiskFullTests : OneCommitRepository
{
    private const int LinesBefore = 200;
    private const int LinesDuringFull = 30_000;
    private const int LinesAfter = 100;

    [SkippableFact]
    public async Task With_the_data_disk_full_writes_answer_507_reads_work_health_and_banner_say_why_and_the_job_loses_no_output()
    {
        // Arrange: a 48 MB disk for the data folder; the runner's own folder is elsewhere, as on a separate machine.
        using var disk = SmallDisk.Mount(48);
        using var runnerWork = new TempDirectory();
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0, dataDirectory: disk.Path, leaseSeconds: 5,
            settings: new Dictionary<string, string> { ["Kaizen:Health:MinFreeMegabytes"] = "8", ["Kaizen:Health:CheckSeconds"] = "1" });
        var marks = Path.Combine(portal.Exchange, "marks");
        Directory.CreateDirectory(marks);
        var pad = new string('x', 100);
        var script = string.Join('\n',
            $"for i in $(seq 1 {LinesBefore}); do echo \"line $i {pad}\"; done",
            $"touch {marks}/before",
            $"while [ ! -f {marks}/full ]; do sleep 0.1; done",
            $"for i in $(seq {LinesBefore + 1} {LinesBefore + LinesDuringFull}); do echo \"line $i {pad}\"; done",
            // A job-token call: the artifact cannot be stored, and the job is told why.
            "echo data > a.txt",
            "kaizen artifact push a.txt || echo \"push refused\"",
            $"touch {marks}/during",
            $"while [ ! -f {marks}/freed ]; do sleep 0.1; done",
            $"for i in $(seq {LinesBefore + LinesDuringFull + 1} {LinesBefore + LinesDuringFull + LinesAfter}); do echo \"line $i {pad}\"; done");
        var slug = await portal.CreateProjectAsync("Disk Full App", _repo.Path, OneJob(script));
        using var created = await portal.Api.PostAsJsonAsync("/api/v1/me/tokens", new { name = "reader" });
        var reader = (await created.Content.ReadFromJsonAsync<CreatedTokenResponse>())!.Token;
        var healthBefore = await HealthAsync(portal);
        portal.StartRunner("steady", workDirectory: runnerWork.Path);
        var buildId = await portal.StartBuildAsync(slug);
        await WaitForFileAsync(Path.Combine(marks, "before"));
        var jobId = (await portal.GetBuildAsync(buildId)).Jobs.Single().Id;
        // Queued behind the running job (the runner has one slot): to be canceled while the disk is full.
        var queuedId = await portal.StartBuildAsync(slug);
        await PortalHost.PollAsync(() => portal.LogAsync(jobId), log => log.Contains($"line {LinesBefore} "),
            log => $"The first {LinesBefore} lines did not arrive: {log.Length} chars");

        // Act 1: fill the disk while the job streams.
        disk.Fill();
        File.WriteAllText(Path.Combine(marks, "full"), "");
        await WaitForFileAsync(Path.Combine(marks, "during"));
        // Longer than the lease: heartbeats fail meanwhile, and the job must still be the runner's afterwards.
        await Task.Delay(TimeSpan.FromSeconds(6));

        using var readerHttp = new HttpClient { BaseAddress = portal.BaseUrl };
        readerHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", reader);
        using var read = await readerHttp.GetAsync($"/api/v1/builds/{buildId}");
        using var write = await portal.Api.PostAsJsonAsync("/api/v1/me/tokens", new { name = "one more" });
        using var anonymous = new HttpClient { BaseAddress = portal.BaseUrl };
        using var register = await anonymous.PostAsync(Kaizen.Runner.Protocol.RunnerRoutes.Register, new StringContent(
            JsonSerializer.Serialize(new { registrationToken = PortalHost.RegistrationToken, name = "latecomer", slots = 1, version = "test" }),
            Encoding.UTF8, "application/json"));
        using var cancel = await portal.Api.PostAsync($"/api/v1/builds/{queuedId}/cancel", null);
        var healthFull = await PollHealthAsync(portal, h => h.Status == StorageStatus.Degraded && !h.DatabaseWritable);
        var bannerForAdmin = await RenderBannerAsync(portal, "admin");
        var bannerForMember = await RenderBannerAsync(portal, "member");
        var duringFull = await portal.GetBuildAsync(buildId);

        // Act 2: free the space and let the job finish.
        disk.Free();
        using var cancelAgain = await portal.Api.PostAsync($"/api/v1/builds/{queuedId}/cancel", null);
        File.WriteAllText(Path.Combine(marks, "freed"), "");
        var build = await portal.WaitForBuildAsync(buildId, timeoutSeconds: 180);
        var healthAfter = await PollHealthAsync(portal, h => h.Status == StorageStatus.Ok);
        var log = await portal.LogAsync(jobId);

        // Assert: before, during and after.
        Assert.Equal(StorageStatus.Ok, healthBefore.Status);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        foreach (var refused in new[] { write, register, cancel })
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.InsufficientStorage, $"{refused.RequestMessage!.RequestUri}: {(int)refused.StatusCode} {body}");
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("The portal's data disk is full", body);
            Assert.DoesNotContain(disk.Path, body);
            Assert.DoesNotContain("/tmp", body);
        }
        Assert.Contains(healthFull.Reasons, r => r.Contains("below the minimum of 8 MB"));
        Assert.Contains(healthFull.Reasons, r => r.Contains("The database does not take writes: its disk is full."));
        Assert.DoesNotContain(healthFull.Reasons, r => r.Contains(disk.Path));
        Assert.Contains("The portal's storage is degraded.", bannerForAdmin);
        Assert.Contains("below the minimum of 8 MB", bannerForAdmin);
        Assert.Equal("", bannerForMember.Trim());
        Assert.Equal(Status.Running, duringFull.Jobs.Single().Status);

        Assert.Equal(HttpStatusCode.Accepted, cancelAgain.StatusCode);
        Assert.Equal(Status.Canceled, (await portal.WaitForBuildAsync(queuedId)).Status);
        Assert.True(build.Status == Status.Passed, await portal.DescribeAsync(build));
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("line ", StringComparison.Ordinal)).ToList();
        var expected = Enumerable.Range(1, LinesBefore + LinesDuringFull + LinesAfter).Select(i => $"line {i} {pad}").ToList();
        Assert.True(expected.SequenceEqual(lines),
            $"The log has {lines.Count} lines, expected {expected.Count}; first difference at {FirstDifference(expected, lines)}");
        Assert.Empty(healthAfter.Reasons);
        Assert.Contains("(507): The portal's data disk is full", log);
        Assert.Contains("push refused", log);
        Assert.DoesNotContain(disk.Path, log);
    }

    private static string FirstDifference(List<string> expected, List<string> actual)
    {
        var i = 0;
        while (i < expected.Count && i < actual.Count && expected[i] == actual[i]) i++;
        return $"index {i}: expected '{(i < expected.Count ? expected[i][..Math.Min(12, expected[i].Length)] : "(end)")}', got '{(i < actual.Count ? actual[i][..Math.Min(12, actual[i].Length)] : "(end)")}'";
    }

    private static async Task<HealthResponse> HealthAsync(PortalHost portal)
    {
        using var anonymous = new HttpClient { BaseAddress = portal.BaseUrl };
        using var response = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<HealthResponse>())!;
    }

    private static Task<HealthResponse> PollHealthAsync(PortalHost portal, Func<HealthResponse, bool> until) =>
        PortalHost.PollAsync(() => HealthAsync(portal), until,
            h => $"/healthz stayed {h.Status}: {string.Join(" ", h.Reasons)}", timeoutSeconds: 30, intervalMilliseconds: 250);

    /// <summary>The banner as <paramref name="role"/> sees it, over the running portal's own storage health.</summary>
    private static async Task<string> RenderBannerAsync(PortalHost portal, string role)
    {
        await using var context = new BunitContext();
        context.JSInterop.Mode = JSRuntimeMode.Loose;
        context.Services.AddMudServices();
        context.Services.AddSingleton(portal.Service<StorageHealth>());
        var auth = context.AddAuthorization();
        auth.SetAuthorized("someone");
        auth.SetRoles(role);
        return context.Render<StorageBanner>().Markup;
    }

    private static Task WaitForFileAsync(string path) =>
        PortalHost.PollAsync(() => Task.FromResult(File.Exists(path)), found => found, _ => $"The job never reached {Path.GetFileName(path)}",
            timeoutSeconds: 120);
}

/// <summary>
/// A tmpfs of a few MB mounted for one test (the tests run as root; without the right to mount, the test is skipped
/// locally and fails when KAIZEN_REQUIRE_SANDBOX=1, as in CI, where the job sandbox needs the same privileges).
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private readonly TempDirectory _mountPoint = new();
    private string? _filler;

    private SmallDisk()
    {
    }

    public string Path => _mountPoint.Path;

    public static SmallDisk Mount(int megabytes)
    {
        var disk = new SmallDisk();
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", disk.Path);
        if (code == 0) return disk;
        disk._mountPoint.Dispose();
        var problem = $"cannot mount a tmpfs here (mount exited {code}: {output.Trim()})";
        if (Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_SANDBOX") == "1")
            Assert.Fail($"The disk-full test needs a tmpfs (KAIZEN_REQUIRE_SANDBOX=1): {problem}");
        Skip.If(true, $"No small disk for the disk-full test: {problem}");
        return disk;
    }

    /// <summary>
    /// Fills the disk to the last byte. First the database's write-ahead log is emptied, as it is after a quiet spell:
    /// otherwise SQLite could go on writing into the log's already allocated space for a while, and which writes fail
    /// would depend on how busy the portal was before.
    /// </summary>
    public void Fill()
    {
        using (var db = new SqliteConnection($"Data Source={System.IO.Path.Combine(Path, "kaizen.db")};Pooling=False"))
        {
            db.Open();
            using (var wait = db.CreateCommand())
            {
                wait.CommandText = "PRAGMA busy_timeout = 30000";
                wait.ExecuteNonQuery();
            }
            using var checkpoint = db.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            using var result = checkpoint.ExecuteReader();
            Assert.True(result.Read() && result.GetInt32(0) == 0, "The write-ahead log could not be emptied");
        }

        _filler = System.IO.Path.Combine(Path, "filler");
        using var file = new FileStream(_filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[4096];
        Array.Fill(block, (byte)'f');
        try
        {
            while (true) file.Write(block);
        }
        catch (IOException ex) when (StorageFull.Is(ex))
        {
        }
    }

    public void Free()
    {
        if (_filler is not null) File.Delete(_filler);
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        _mountPoint.Dispose();
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }
}
