using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Scripts;

/// <summary>Shared scripts in real builds: the real portal, its embedded runner, real bash and a real repository.</summary>
public sealed class ScriptRunTests() : PortalWithRepository(embeddedSlots: 2)
{
    [Fact]
    public async Task A_script_used_by_two_projects_runs_in_both_with_each_top_level_command_timed()
    {
        // Arrange
        await _portal.SaveAsync("greet", "#!/bin/bash\n# Greets someone.\necho \"hello $1\"\nsleep 0.3\nif [ \"$2\" = loud ]; then\n  echo LOUD\nfi\n",
            "Greets someone");
        var web = await _portal.CreateProjectAsync("Web", _repo.Path, PortalHost.OneJob("echo before", "run-script greet \"big world\" loud", "echo after"));
        var api = await _portal.CreateProjectAsync("Api", _repo.Path, PortalHost.OneJob("run-script greet api"));

        // Act
        var builds = await Task.WhenAll(_portal.BuildAsync(web), _portal.BuildAsync(api));

        // Assert
        foreach (var (build, section) in new[] { (builds[0], 1), (builds[1], 0) })
        {
            Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
            var commands = build.Commands();
            Assert.Equal("greet@1", commands[section].Script);
            var steps = commands.Where(c => c.Parent == section).ToList();
            Assert.Equal(["echo \"hello $1\"", "sleep 0.3", "if [ \"$2\" = loud ]; then\n  echo LOUD\nfi"], steps.Select(s => s.Text));
            Assert.All(steps, s => Assert.Equal((Status.Passed, 0), (s.Status, s.ExitCode!.Value)));
            Assert.All(steps, s => Assert.NotNull(s.DurationMs));
            Assert.InRange(steps[1].DurationMs!.Value, 250, 10_000);
            Assert.True(commands[section].DurationMs >= steps[1].DurationMs);
        }
        var webLog = await _portal.LogAsync(builds[0].Jobs[0].Id);
        Assert.Contains("hello big world", webLog);
        Assert.Contains("LOUD", webLog);
        Assert.Contains("hello api", await _portal.LogAsync(builds[1].Jobs[0].Id));
        Assert.Equal("after\n", webLog[(webLog.LastIndexOf("LOUD\n", StringComparison.Ordinal) + 5)..]);

        var runs = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts/greet/runs");
        Assert.Equal(2, runs.GetArrayLength());
        var usages = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts/greet/usages");
        Assert.Equal(["api", "web"], usages.EnumerateArray().Select(u => u.GetProperty("projectSlug").GetString()).Order());
    }

    [Fact]
    public async Task A_new_version_does_not_change_a_build_that_ran_and_a_pinned_version_keeps_its_text()
    {
        // Arrange
        await _portal.SaveAsync("ver", "echo text-of-v1\n");
        var slug = await _portal.CreateProjectAsync("Pinned", _repo.Path, PortalHost.OneJob("run-script ver", "run-script ver@1"));
        var first = await _portal.BuildAsync(slug);

        // Act
        Assert.Equal(2, await _portal.SaveAsync("ver", "echo text-of-v2\necho second-step\n"));
        var second = await _portal.BuildAsync(slug);

        // Assert
        Assert.True(second.Status == Status.Passed, await _portal.DescribeAsync(second));
        var old = (await _portal.GetBuildAsync(first.Id)).Commands();
        Assert.Equal(["ver@1", null, "ver@1", null], old.Select(c => c.Script));
        Assert.Equal(["run-script ver", "echo text-of-v1", "run-script ver@1", "echo text-of-v1"], old.Select(c => c.Text));
        Assert.Equal(2, Count(await _portal.LogAsync(first.Jobs[0].Id), "text-of-v1"));

        var now = second.Commands();
        Assert.Equal(["ver@2", null, null, "ver@1", null], now.Select(c => c.Script));
        Assert.Equal([null, 0, 0, null, 3], now.Select(c => c.Parent));
        var log = await _portal.LogAsync(second.Jobs[0].Id);
        Assert.Equal(1, Count(log, "text-of-v2"));
        Assert.Equal(1, Count(log, "text-of-v1"));

        var v1 = await _portal.Api.GetFromJsonAsync<JsonElement>("/api/v1/scripts/ver/versions/1");
        Assert.Equal("echo text-of-v1\n", v1.GetProperty("body").GetString());

        // A rerun of the first build retries what it ran: version 1.
        using var rerun = await _portal.Api.PostAsync($"/api/v1/builds/{first.Id}/rerun", null);
        var retried = await _portal.WaitForBuildAsync((await rerun.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
        Assert.Equal(["ver@1", null, "ver@1", null], retried.Commands().Select(c => c.Script));
        Assert.Equal(2, Count(await _portal.LogAsync(retried.Jobs[0].Id), "text-of-v1"));
    }

    [Fact]
    public async Task A_script_that_exits_midway_ends_its_section_with_that_code_skips_the_rest_and_fails_the_job()
    {
        // Arrange
        await _portal.SaveAsync("partial", "echo started\nexit 3\necho never\n");
        var slug = await _portal.CreateProjectAsync("Exits", _repo.Path, PortalHost.OneJob("run-script partial", "echo not-reached"));

        // Act
        var build = await _portal.BuildAsync(slug);

        // Assert
        Assert.Equal(Status.Failed, build.Status);
        Assert.Equal([(Status.Failed, 3), (Status.Passed, 0), (Status.Failed, 3), (Status.Skipped, -1), (Status.Skipped, -1)],
            build.Commands().Select(c => (c.Status, c.ExitCode ?? -1)));
        Assert.DoesNotContain("never", await _portal.LogAsync(build.Jobs[0].Id));
    }

    [Fact]
    public async Task Secrets_printed_by_a_script_are_masked()
    {
        // Arrange
        await _portal.SaveAsync("leaky", "echo \"the key is $DEPLOY_KEY\"\n");
        var slug = await _portal.CreateProjectAsync("Secretive", _repo.Path, PortalHost.OneJob("run-script leaky"));
        using var secret = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/secrets/DEPLOY_KEY", new { value = "k3y-that-must-not-leak" });
        Assert.True(secret.IsSuccessStatusCode, await secret.Content.ReadAsStringAsync());

        // Act
        var build = await _portal.BuildAsync(slug);

        // Assert
        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        var log = await _portal.LogAsync(build.Jobs[0].Id);
        Assert.Contains("the key is ***", log);
        Assert.DoesNotContain("k3y-that-must-not-leak", log);
    }

    [Fact]
    public async Task Unknown_scripts_and_versions_in_settings_and_servers_are_refused_with_the_command_named()
    {
        // Arrange
        await _portal.SaveAsync("known", "true\n");
        var slug = await _portal.CreateProjectAsync("Strict", _repo.Path, PortalHost.OneJob("run-script known@1"));

        // Act
        using var unknown = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob("echo ok", "run-script nope arg"));
        using var version = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob("run-script known@9"));
        using var malformed = await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob("run-script Bad_Name"));
        using var server = await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "staging", commands = new[] { "run-script missing-deploy" }, trigger = new { mode = "manual" },
        });

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("jobs[test][1] ('run-script nope arg'): there is no script 'nope' in the library.", await unknown.DetailAsync());
        Assert.Equal(HttpStatusCode.BadRequest, version.StatusCode);
        Assert.Contains("script 'known' has no version 9 (its versions are 1 to 1)", await version.DetailAsync());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("'Bad_Name' is not a script name", await malformed.DetailAsync());
        Assert.Equal(HttpStatusCode.BadRequest, server.StatusCode);
        Assert.Contains("commands[0] ('run-script missing-deploy'): there is no script 'missing-deploy'", await server.DetailAsync());
    }

    [Fact]
    public async Task A_servers_deploy_runs_a_script_with_its_steps_timed_and_keeps_the_version_it_started_with()
    {
        // Arrange
        await _portal.SaveAsync("ship", "echo \"shipping to $1\"\nsleep 0.2\n");
        var slug = await _portal.CreateProjectAsync("Shipped", _repo.Path, PortalHost.OneJob("true"));
        using var server = await _portal.Api.PostAsJsonAsync($"/api/v1/projects/{slug}/servers", new
        {
            name = "staging", commands = new[] { "run-script ship staging" }, trigger = new { mode = "manual" },
        });
        Assert.True(server.IsSuccessStatusCode, await server.Content.ReadAsStringAsync());
        var build = await _portal.BuildAsync(slug);

        // Act
        using var requested = await _portal.Api.PostAsJsonAsync($"/api/v1/builds/{build.Id}/deploys", new { server = "staging" });
        Assert.True(requested.IsSuccessStatusCode, await requested.Content.ReadAsStringAsync());
        var deployId = (await requested.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var deploy = await PortalHost.PollAsync(() => _portal.Api.GetFromJsonAsync<JsonElement>($"/api/v1/deploys/{deployId}"),
            d => Status.IsFinished(d.GetProperty("status").GetString()!), d => $"deploy is {d.GetProperty("status")}");
        await _portal.SaveAsync("ship", "echo changed\n");

        // Assert
        Assert.Equal(Status.Passed, deploy.GetProperty("status").GetString());
        var commands = await _portal.Service<BuildStore>().CommandsOfJobAsync(deploy.GetProperty("jobId").GetInt64());
        Assert.Equal([("run-script ship staging", (int?)null, "ship"), ("echo \"shipping to $1\"", 0, null), ("sleep 0.2", 0, null)],
            commands.Select(c => (c.Text, c.ParentIdx, c.ScriptName)));
        Assert.Equal(1, commands[0].ScriptVersion);
        Assert.All(commands, c => Assert.Equal((Status.Passed, 0), (c.Status, c.ExitCode!.Value)));
        Assert.InRange(commands[2].DurationMs!.Value, 150, 10_000);
    }

    private static int Count(string text, string word) => text.Split(word).Length - 1;
}
