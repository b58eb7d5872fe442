using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;

namespace Kaizen.Portal.Tests.Integration;

/// <summary>
/// A script reads a job without the build's JSON: <c>GET /api/v1/jobs/{id}</c> has its commands with exit codes and
/// durations, and <c>/log?sections=true</c> marks which command printed what.
/// </summary>
public sealed class JobApiTests : OneCommitRepository
{
    [Fact]
    public async Task The_log_with_sections_marks_each_command_its_output_and_how_it_ended_in_order()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Sections App", _repo.Path, new
        {
            setup = new[] { "echo set up" },
            jobs = new[] { new { name = "test", commands = new[] { "printf 'no line feed'", "true", "echo 'ünïcode'; echo oops >&2; exit 3", "echo never" } } },
            epilogue = Array.Empty<string>(),
        });
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 60);
        Assert.Equal(Status.Failed, build.Status);
        var jobId = build.Jobs[0].Id;

        var text = await portal.Api.GetStringAsync($"/api/v1/jobs/{jobId}/log?sections=true");
        var lines = text.Split('\n');
        var markers = lines.Where(l => l.StartsWith(SectionedLog.Marker, StringComparison.Ordinal)).ToList();

        Assert.Equal($"{SectionedLog.Marker} section prepare", markers[0]);
        Assert.Equal(
        [
            $"{SectionedLog.Marker} section command 0 setup: echo set up",
            $"{SectionedLog.Marker} end command 0 status=passed exit=0 duration_ms=",
            $"{SectionedLog.Marker} section command 1 main: printf 'no line feed'",
            $"{SectionedLog.Marker} end command 1 status=passed exit=0 duration_ms=",
            $"{SectionedLog.Marker} section command 2 main: true",
            $"{SectionedLog.Marker} end command 2 status=passed exit=0 duration_ms=",
            $"{SectionedLog.Marker} section command 3 main: echo 'ünïcode'; echo oops >&2; exit 3",
            $"{SectionedLog.Marker} end command 3 status=failed exit=3 duration_ms=",
            $"{SectionedLog.Marker} section command 4 main: echo never",
            $"{SectionedLog.Marker} end command 4 status=skipped",
        ], markers.Where(m => m.Contains(" command ", StringComparison.Ordinal)).Select(m => m.Contains("duration_ms=", StringComparison.Ordinal) ? m[..(m.IndexOf("duration_ms=", StringComparison.Ordinal) + 12)] : m));

        // Each command's output sits between its markers; output without a line feed still ends before the next marker.
        string Between(string start) => string.Join('\n', lines.SkipWhile(l => !l.StartsWith($"{SectionedLog.Marker} section command {start}", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.StartsWith(SectionedLog.Marker, StringComparison.Ordinal)));
        Assert.Equal("set up", Between("0"));
        Assert.Equal("no line feed", Between("1"));
        Assert.Equal("", Between("2"));
        Assert.Equal("ünïcode\noops", Between("3"));

        // Without the flag the log is the plain output, unchanged.
        var plain = await portal.LogAsync(jobId);
        Assert.DoesNotContain(SectionedLog.Marker, plain);
        Assert.Contains("no line feed", plain);
    }

    [Fact]
    public async Task A_job_reads_with_its_build_and_commands_and_stays_hidden_where_its_project_is()
    {
        await using var portal = await PortalHost.StartAsync(embeddedSlots: 1);
        var slug = await portal.CreateProjectAsync("Job Api App", _repo.Path, OneJob("echo hi", "exit 2"), isPublic: false);
        var build = await portal.WaitForBuildAsync(await portal.StartBuildAsync(slug), timeoutSeconds: 60);
        var jobId = build.Jobs[0].Id;

        var detail = await portal.Api.GetFromJsonAsync<JobDetailResponse>($"/api/v1/jobs/{jobId}");
        Assert.NotNull(detail);
        Assert.Equal(build.Id, detail.BuildId);
        Assert.Equal(slug, detail.Project);
        Assert.Equal(Status.Failed, detail.Job.Status);
        Assert.Equal([0, 2], detail.Job.Commands.Select(c => c.ExitCode ?? -1));
        Assert.All(detail.Job.Commands, c => Assert.NotNull(c.DurationMs));

        using var anonymous = new HttpClient { BaseAddress = portal.BaseUrl };
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/v1/jobs/{jobId}/log?sections=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await portal.Api.GetAsync("/api/v1/jobs/987654")).StatusCode);
    }
}
