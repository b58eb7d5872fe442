using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>The real portal, a real runner, real bash and a real git repository, end to end over HTTP.</summary>
public sealed class BuildEndToEndTests : IAsyncLifetime
{
    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private string _sha = "";

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 4);
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("version.txt", "one\n"));
        _sha = await _repo.CommitAsync("Second: bump version", ("version.txt", "two\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task A_passing_build_checks_out_the_exact_commit_and_times_every_command()
    {
        var slug = await _portal.CreateProjectAsync("Passing App", _repo.Path, new
        {
            setup = new[] { "echo setting up" },
            jobs = new[] { new { name = "test", commands = new[] { "cat version.txt", "git rev-parse HEAD", "sleep 0.2" } } },
            epilogue = new[] { "echo done" },
        });

        var id = await _portal.StartBuildAsync(slug, "main");
        var build = await _portal.WaitForBuildAsync(id);

        Assert.Equal(Status.Passed, build.Status);
        Assert.Equal(_sha, build.CommitSha);
        Assert.Equal("Second: bump version", build.CommitMessage);
        Assert.Equal("main", build.Branch);
        var job = Assert.Single(build.Jobs);
        Assert.Equal(["echo setting up", "cat version.txt", "git rev-parse HEAD", "sleep 0.2", "echo done"], job.Commands.Select(c => c.Text));
        Assert.All(job.Commands, c => Assert.Equal((Status.Passed, 0), (c.Status, c.ExitCode ?? -1)));
        Assert.All(job.Commands, c => Assert.NotNull(c.DurationMs));
        Assert.InRange(job.Commands[3].DurationMs!.Value, 200, 5_000);
        var log = await _portal.LogAsync(job.Id);
        Assert.Contains("two\n", log);
        Assert.Contains(_sha, log);
        Assert.Contains("done", log);
    }

    [Fact]
    public async Task A_failing_command_fails_the_job_skips_the_rest_and_still_runs_the_epilogue()
    {
        var slug = await _portal.CreateProjectAsync("Failing App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "echo before", "exit 7", "echo never-printed" } } },
            epilogue = new[] { "echo epilogue ran" },
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal(Status.Failed, build.Status);
        var commands = Assert.Single(build.Jobs).Commands;
        Assert.Equal([Status.Passed, Status.Failed, Status.Skipped, Status.Passed], commands.Select(c => c.Status));
        Assert.Equal(7, commands[1].ExitCode);
        var log = await _portal.LogAsync(build.Jobs[0].Id);
        Assert.DoesNotContain("never-printed", log);
        Assert.Contains("epilogue ran", log);
    }

    [Fact]
    public async Task Cd_and_export_carry_over_between_commands_like_a_terminal()
    {
        var slug = await _portal.CreateProjectAsync("Shell App", _repo.Path, new
        {
            setup = new[] { "export GREETING=hello", "mkdir -p sub && cd sub" },
            jobs = new[] { new { name = "test", commands = new[] { "NAME=world", "echo \"$GREETING $NAME from $(basename $PWD)\"" } } },
            epilogue = Array.Empty<string>(),
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.Equal(Status.Passed, build.Status);
        Assert.Contains("hello world from sub", await _portal.LogAsync(build.Jobs[0].Id));
    }

    [Fact]
    public async Task Jobs_of_one_build_run_in_parallel()
    {
        // Each job records when it ran; with free slots their intervals must overlap.
        var marks = Path.Combine(_portal.Exchange, "marks");
        Directory.CreateDirectory(marks);
        string Job(string name) =>
            $"date +%s%N > {marks}/{name}.start; sleep 3; date +%s%N > {marks}/{name}.end";
        var slug = await _portal.CreateProjectAsync("Parallel App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "a", commands = new[] { Job("a") } }, new { name = "b", commands = new[] { Job("b") } }, new { name = "c", commands = new[] { Job("c") } } },
            epilogue = Array.Empty<string>(),
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        long Read(string file) => long.Parse(File.ReadAllText(Path.Combine(marks, file)).Trim());
        var latestStart = new[] { "a", "b", "c" }.Max(j => Read($"{j}.start"));
        var earliestEnd = new[] { "a", "b", "c" }.Min(j => Read($"{j}.end"));
        Assert.True(latestStart < earliestEnd, "every job was running at the same moment");
    }

    [Fact]
    public async Task Cancel_stops_a_running_job_and_kills_its_processes()
    {
        // A sleep the test can find among the host's processes (inside the job's sandbox its pid is another).
        var seconds = 30000 + Random.Shared.Next(9999);
        var slug = await _portal.CreateProjectAsync("Cancel App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "long", commands = new[] { $"sleep {seconds} & wait" } } },
            epilogue = Array.Empty<string>(),
        });
        var id = await _portal.StartBuildAsync(slug);
        await _portal.WaitForBuildAsync(id, b => b.Jobs[0].Commands[0].Status == Status.Running && HostProcesses($"sleep\0{seconds}\0").Count > 0);

        var canceled = await _portal.Api.PostAsync($"/api/v1/builds/{id}/cancel", null);
        var build = await _portal.WaitForBuildAsync(id, timeoutSeconds: 15);

        Assert.Equal(HttpStatusCode.Accepted, canceled.StatusCode);
        Assert.Equal(Status.Canceled, build.Status);
        Assert.Equal(Status.Canceled, build.Jobs[0].Status);
        Assert.Empty(HostProcesses($"sleep\0{seconds}\0"));
        var again = await _portal.Api.PostAsync($"/api/v1/builds/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    /// <summary>The host's live processes whose command line is exactly <paramref name="cmdline"/> (NUL-separated).</summary>
    internal static List<int> HostProcesses(string cmdline)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(directory, "cmdline")) == cmdline && ProcessIsRunning(pid))
                    {
                        found.Add(pid);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }
            }
        }

        return found;
    }

    /// <summary>A process that exists and is not a zombie (nothing reaps orphans in some containers).</summary>
    internal static bool ProcessIsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Canceling_a_queued_build_cancels_it_before_any_runner_takes_it()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 0);
        var slug = await portal.CreateProjectAsync("Queued App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "echo hi" } } },
            epilogue = Array.Empty<string>(),
        });
        var id = await portal.StartBuildAsync(slug);

        await portal.Api.PostAsync($"/api/v1/builds/{id}/cancel", null);
        var build = await portal.GetBuildAsync(id);

        Assert.Equal(Status.Canceled, build.Status);
        Assert.All(build.Jobs[0].Commands, c => Assert.Equal(Status.Skipped, c.Status));
    }

    [Fact]
    public async Task Rerun_builds_the_same_commit_again()
    {
        var slug = await _portal.CreateProjectAsync("Rerun App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "git rev-parse HEAD" } } },
            epilogue = Array.Empty<string>(),
        });
        var first = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        await _repo.CommitAsync("Third", ("version.txt", "three\n"));

        var response = await _portal.Api.PostAsync($"/api/v1/builds/{first.Id}/rerun", null);
        var rerunId = (await response.Content.ReadFromJsonAsync<CreatedResponse>())!.Id;
        var rerun = await _portal.WaitForBuildAsync(rerunId);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.NotEqual(first.Id, rerun.Id);
        Assert.Equal(first.CommitSha, rerun.CommitSha);
        Assert.Equal("rerun", rerun.Trigger);
        Assert.Equal(Status.Passed, rerun.Status);
    }

    [Fact]
    public async Task Builds_are_listed_newest_first_with_paging_and_filters()
    {
        var slug = await _portal.CreateProjectAsync("Listed App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "true" } } },
            epilogue = Array.Empty<string>(),
        });
        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.Add(await _portal.StartBuildAsync(slug));
        foreach (var id in ids) await _portal.WaitForBuildAsync(id);

        var page = await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds?page=1&pageSize=2");
        var failed = await _portal.Api.GetFromJsonAsync<BuildListResponse>($"/api/v1/projects/{slug}/builds?status=failed");

        Assert.Equal(3, page!.Total);
        Assert.Equal([ids[2], ids[1]], page.Items.Select(b => b.Id));
        Assert.All(page.Items, b => Assert.Equal(("passed", "main"), (b.Status, b.Branch)));
        Assert.Equal(0, failed!.Total);
    }

    [Fact]
    public async Task Output_with_invalid_utf8_and_a_one_megabyte_line_keeps_the_log_readable()
    {
        var slug = await _portal.CreateProjectAsync("Noisy App", _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[] { new { name = "test", commands = new[] { "printf 'bad \\xff\\xfe bytes\\n'", "head -c 1048576 /dev/zero | tr '\\0' 'x'; echo", "echo after" } } },
            epilogue = Array.Empty<string>(),
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        var log = await _portal.LogAsync(build.Jobs[0].Id);

        Assert.Equal(Status.Passed, build.Status);
        Assert.Contains("bad \uFFFD\uFFFD bytes", log);
        Assert.Contains(new string('x', 1_048_576) + "\n", log);
        Assert.Contains("after", log);
    }
}
