using System.Net.Http.Json;
using System.Security.Cryptography;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Tests.Integration;
using static Kaizen.Portal.Tests.Integration.PortalHost;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Security;

/// <summary>
/// Jobs written by an attacker (a member's branch, a fork's pull request) run through the real portal and its
/// embedded runner, in the real sandbox, and try what an attacker would: read the portal's data and the runner's
/// credentials, read the runner's environment, leave a process behind, watch another job, tamper with what other
/// projects' jobs run. Each test asserts the attack failed.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class HostileJobTests : PortalWithRepository
{
    public HostileJobTests() : base(embeddedSlots: 2)
    {
    }

    private string RunnerWork => Path.Combine(_portal.DataDirectory, "runner");

    [SkippableFact]
    public async Task A_job_reaches_neither_the_portal_data_nor_the_runner_credentials()
    {
        SandboxRequirement.Check();
        string[] targets =
        [
            Path.Combine(_portal.DataDirectory, "kaizen.db"),
            Path.Combine(_portal.DataDirectory, "keys"),
            Path.Combine(RunnerWork, "runner.json"),
            Path.Combine(RunnerWork, "cache"),
            Path.Combine(RunnerWork, "sandbox"),
            "$KAIZEN_WORKSPACE/../../../kaizen.db",
            "$KAIZEN_WORKSPACE/../../runner.json",
            "/root", "/var/run/docker.sock", "/run/docker.sock", "/etc/ssh/ssh_host_ed25519_key",
        ];
        // A target leaks when it shows content: a non-empty file or a folder with entries (what only root may read is
        // covered with an empty file or folder).
        var probes = string.Join("; ", targets.Select(t => $"if [ -s \"{t}\" ] || {{ [ -d \"{t}\" ] && [ -n \"$(ls -A \"{t}\" 2>/dev/null)\" ]; }}; then echo \"LEAK:{t}\"; fi"));
        var slug = await _portal.CreateProjectAsync("Snoop", _repo.Path, PortalHost.OneJob(
            "id",
            probes,
            "if [ -s /etc/shadow ]; then echo LEAK:shadow; fi",
            "ls -a \"$KAIZEN_WORKSPACE/..\" | sed 's/^/sibling: /'",
            $"ls -A {Path.Combine(RunnerWork, "bin")} | sed 's/^/library folder: /'",
            "ls -A /home | sed 's/^/home: /'",
            "grep -rls kzt_ / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=dev 2>/dev/null | sed 's/^/LEAK:token in /'; true",
            "echo probed"));

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        var log = await _portal.LogAsync(build.Jobs[0].Id);

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("probed", log);
        Assert.Contains($"uid=1000(kaizen)", log);
        Assert.DoesNotContain("LEAK:", log);
        var siblings = log.Split('\n').Where(l => l.StartsWith("sibling: ", StringComparison.Ordinal)).Select(l => l[9..]).ToList();
        Assert.Equal([".", "..", build.Jobs[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], siblings);
        Assert.Equal(["kaizen.sh"], log.Split('\n').Where(l => l.StartsWith("library folder: ", StringComparison.Ordinal)).Select(l => l[16..]));
        Assert.Equal(["kaizen"], log.Split('\n').Where(l => l.StartsWith("home: ", StringComparison.Ordinal)).Select(l => l[6..]));
    }

    [SkippableFact]
    public async Task A_job_environment_holds_what_the_job_is_given_and_nothing_of_the_portal()
    {
        SandboxRequirement.Check();
        var canary = "portal-setting-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        Environment.SetEnvironmentVariable("Kaizen__Hostile__Canary", canary);
        try
        {
            var slug = await _portal.CreateProjectAsync("Environ", _repo.Path, PortalHost.OneJob("env | cut -d= -f1 | sort | sed 's/^/var: /'", "env", "kaizen help >/dev/null && echo kaizen-works"));

            var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
            var log = await _portal.LogAsync(build.Jobs[0].Id);

            Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
            Assert.DoesNotContain(canary, log);
            Assert.DoesNotContain(PortalHost.AdminToken, log);
            Assert.Contains("kaizen-works", log);
            var names = log.Split('\n').Where(l => l.StartsWith("var: ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).ToList();
            Assert.Contains("KAIZEN_WORKSPACE", names);
            Assert.DoesNotContain("KAIZEN_JOB_TOKEN", names);
            Assert.DoesNotContain("KAIZEN_CACHE_DIR", names);
            string[] allowed = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "TERM", "TMPDIR", "PWD", "SHLVL", "_", "OLDPWD", "CI"];
            var network = Kaizen.Runner.Execution.Sandbox.JobSandbox.NetworkEnvironment().Keys; // proxies and CA bundles of the machine
            Assert.All(names, name => Assert.True(allowed.Contains(name) || network.Contains(name) || name.StartsWith("KAIZEN", StringComparison.Ordinal)
                                             || name.StartsWith("SEMAPHORE_", StringComparison.Ordinal), // the runner's facts under Semaphore's names
                $"{name} reached the job"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("Kaizen__Hostile__Canary", null);
        }
    }

    [SkippableFact]
    public async Task Nothing_a_job_starts_outlives_it()
    {
        SandboxRequirement.Check();
        var tag = 40000 + RandomNumberGenerator.GetInt32(9999);
        var slug = await _portal.CreateProjectAsync("Lingerer", _repo.Path, PortalHost.OneJob(
            $"setsid -f sleep {tag}",
            $"nohup sleep {tag + 1} >/dev/null 2>&1 &",
            $"(trap '' HUP TERM INT; exec sleep {tag + 2}) & disown",
            "echo left behind"));

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        var left = await PortalHost.PollAsync(() => Task.FromResult(SleepersOnHost(tag)), l => l.Count == 0, l => string.Join(", ", l), timeoutSeconds: 10)
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : SleepersOnHost(tag));

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Empty(left);
    }

    [SkippableFact]
    public async Task A_job_cannot_see_another_running_job_or_read_its_secrets()
    {
        SandboxRequirement.Check();
        var secret = "victim-secret-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var victim = await _portal.CreateProjectAsync("Victim", _repo.Path, PortalHost.OneJob("echo \"$VICTIM_TOKEN\" > victim.txt", "sleep 12"));
        (await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{victim}/secrets/VICTIM_TOKEN", new { value = secret })).EnsureSuccessStatusCode();
        var attacker = await _portal.CreateProjectAsync("Watcher", _repo.Path, PortalHost.OneJob(
            "ps -e -o pid=,args= | sed 's/^/process: /'",
            "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -i victim | sed 's/^/LEAK: /'; true",
            "ls \"$KAIZEN_WORKSPACE/..\"; cat \"$KAIZEN_WORKSPACE\"/../*/victim.txt 2>/dev/null | sed 's/^/LEAK: /'; true",
            "kill -9 -1 2>/dev/null; echo still here"));

        var victimBuild = await _portal.StartBuildAsync(victim);
        await _portal.WaitForBuildAsync(victimBuild, b => b.Jobs[0].Commands.Count > 1 && b.Jobs[0].Commands[1].Status == Status.Running);
        var attackerBuild = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(attacker));
        var log = await _portal.LogAsync(attackerBuild.Jobs[0].Id);
        var victimState = await _portal.GetBuildAsync(victimBuild);

        Assert.Contains("still here", log);
        Assert.DoesNotContain(secret, log);
        Assert.DoesNotContain("LEAK: ", log);
        Assert.DoesNotContain("sleep 12", log);
        Assert.Equal(Status.Running, victimState.Status);
        var passed = await _portal.WaitForBuildAsync(victimBuild);
        Assert.Equal(Status.Passed, passed.Status);
    }

    [SkippableFact]
    public async Task A_job_cannot_change_the_library_or_the_tools_another_project_runs()
    {
        SandboxRequirement.Check();
        var library = Path.Combine(RunnerWork, "bin", "kaizen.sh");
        var tools = Path.Combine(RunnerWork, "tools");
        var evil = await _portal.CreateProjectAsync("Planter", _repo.Path, PortalHost.OneJob(
            $"echo 'echo PWNED' >> {library} && echo LEAK:library; true",
            "echo 'kaizen() { echo PWNED; }' >> \"$(declare -F kaizen >/dev/null && echo \"$BASH_SOURCE\")\" 2>/dev/null; true",
            // Where the runner keeps another project's tools: what the job reaches by that path is not that folder.
            $"mkdir -p {tools}/grab/fake/1/bin && touch {tools}/grab/fake/1/.kaizen-installed; true",
            "mkdir -p \"$KAIZEN_TOOLS_DIR/fake/1/bin\" 2>/dev/null && echo LEAK:own-tools-writable; true",
            "kaizen tool use fake 1 -- 'mkdir -p bin && printf \"#!/bin/sh\\necho PWNED\\n\" > bin/fake && chmod +x bin/fake' && fake"));
        var before = File.Exists(library) ? await File.ReadAllBytesAsync(library) : [];

        var evilBuild = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(evil));
        var evilLog = await _portal.LogAsync(evilBuild.Jobs[0].Id);
        var victim = await _portal.CreateProjectAsync("Grab", _repo.Path, PortalHost.OneJob(
            "kaizen tool use fake 1 -- 'mkdir -p bin && printf \"#!/bin/sh\\necho genuine\\n\" > bin/fake && chmod +x bin/fake'",
            "fake"));
        var victimBuild = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(victim));
        var victimLog = await _portal.LogAsync(victimBuild.Jobs[0].Id);

        Assert.DoesNotContain("LEAK:", evilLog);
        Assert.Contains("tool: installing fake 1", victimLog); // its own install, not the planted folder
        Assert.True(evilLog.Contains("PWNED"), evilLog); // its own project's tool: installed by the runner, for that project only
        Assert.True(victimBuild.Status == Status.Passed, await _portal.DescribeAsync(victimBuild));
        Assert.Contains("genuine", victimLog);
        Assert.DoesNotContain("PWNED", victimLog);
        if (before.Length > 0)
        {
            Assert.Equal(before, await File.ReadAllBytesAsync(library));
        }
    }

    [SkippableFact]
    public async Task A_container_job_sees_only_its_own_workspace_and_cannot_change_its_projects_tools()
    {
        SandboxRequirement.Check();
        await DockerTestImages.RequireAsync();
        var work = RunnerWork; // the embedded runner offers Docker when the daemon answers
        var slug = await _portal.CreateProjectAsync("Boxed", _repo.Path, new
        {
            image = DockerTestImages.Busybox,
            setup = Array.Empty<string>(),
            jobs = new object[]
            {
                new
                {
                    name = "test",
                    commands = new[]
                    {
                        // Builtins only: the image has a few busybox applets and no sed or touch.
                        "for f in \"$KAIZEN_WORKSPACE\"/../* \"$KAIZEN_WORKSPACE\"/../.[!.]*; do [ -e \"$f\" ] && echo \"sibling: ${f##*/}\"; done; true",
                        $"for p in {_portal.DataDirectory}/kaizen.db {work}/runner.json {work}/git {work}/cache /var/run/docker.sock; do [ -e \"$p\" ] && echo \"LEAK:$p\"; done; true",
                        ": > \"$KAIZEN_TOOLS_DIR/planted\" 2>/dev/null && echo LEAK:tools-writable; true",
                        "[ -n \"${KAIZEN_JOB_TOKEN-}\" ] && echo LEAK:token; true",
                        // Capabilities and privileges from the kernel's own view (no capsh in the image).
                        "while read -r k v; do case $k in CapEff:|CapBnd:|NoNewPrivs:) echo \"status $k $v\";; esac; done < /proc/self/status",
                        "mkdir -p deps && echo boxed > deps/x && kaizen cache store --key boxed-1 -- deps",
                        "echo done",
                    },
                },
            },
            epilogue = Array.Empty<string>(),
        });
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "main"), timeoutSeconds: 120);
        var log = await _portal.LogAsync(build.Jobs[0].Id);

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("done", log);
        Assert.Contains("cache: stored boxed-1", log);
        Assert.DoesNotContain("LEAK:", log);
        // CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, NET_BIND_SERVICE: no raw sockets, mknod or chroot.
        Assert.Contains("status CapEff: 00000000000004fb", log);
        Assert.Contains("status CapBnd: 00000000000004fb", log);
        Assert.Contains("status NoNewPrivs: 1", log);
        var siblings = log.Split('\n').Where(l => l.StartsWith("sibling: ", StringComparison.Ordinal)).Select(l => l[9..]).ToList();
        Assert.Equal([build.Jobs[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], siblings);
    }

    [SkippableFact]
    public async Task Links_to_the_runners_folder_or_etc_are_stored_and_pushed_as_links_never_as_what_they_point_to()
    {
        SandboxRequirement.Check();
        var slug = await _portal.CreateProjectAsync("Linker", _repo.Path, PortalHost.OneJob(
            $"ln -s {RunnerWork} runner && ln -s /etc etc && mkdir -p deps && echo mine > deps/own && ln -s {RunnerWork}/runner.json deps/creds",
            "kaizen cache store --key links -- runner/ runner/runner.json etc/ etc/passwd deps",
            $"ln -s {RunnerWork}/runner.json creds.json && kaizen artifact push creds.json; echo \"pushed link: $?\"",
            "ln -s /etc/passwd accounts && kaizen artifact push accounts; echo \"pushed passwd: $?\"",
            "kaizen artifact push etc etc.tar.gz; echo \"pushed etc: $?\"",
            "mkdir -p back && cd back && kaizen cache restore --key links -- deps etc && cat deps/own && readlink etc deps/creds"));

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        var log = await _portal.LogAsync(build.Jobs[0].Id);

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("cache: stored links (", log);
        Assert.Contains("cache: etc/passwd leads out of the current directory through a symbolic link, not stored", log);
        Assert.Contains("pushed link: 2", log);
        Assert.Contains("pushed passwd: 2", log);
        Assert.Contains("pushed etc: 2", log);
        Assert.Contains($"mine\n/etc\n{RunnerWork}/runner.json\n", log.Replace("\r", ""));
        var members = await ArchiveMembersAsync(slug, "links");
        Assert.Contains(members, m => m.StartsWith('l') && m.EndsWith("./etc -> /etc", StringComparison.Ordinal));
        Assert.Contains(members, m => m.StartsWith('l') && m.EndsWith($"./deps/creds -> {RunnerWork}/runner.json", StringComparison.Ordinal));
        var names = members.Select(m => m[m.IndexOf(" ./", StringComparison.Ordinal)..].Split(" -> ")[0].Trim()).ToList();
        Assert.DoesNotContain(names, n => n.StartsWith("./etc/", StringComparison.Ordinal) || n.StartsWith("./runner/", StringComparison.Ordinal));
        Assert.All(members.Where(m => m.Contains(" ./runner", StringComparison.Ordinal)), m => Assert.StartsWith("l", m));
        Assert.Empty(await _portal.Service<Kaizen.Portal.Artifacts.ArtifactStore>().OfBuildAsync(build.Id));
    }

    [SkippableFact]
    public async Task A_restore_into_a_planted_link_never_writes_into_the_runners_folders()
    {
        SandboxRequirement.Check();
        var cache = Path.Combine(RunnerWork, "cache");
        var slug = await _portal.CreateProjectAsync("Through", _repo.Path, PortalHost.OneJob(
            "mkdir -p deps && echo payload > deps/planted.txt && kaizen cache store --key through -- deps",
            $"rm -rf deps && ln -s {cache} deps && kaizen cache restore --key through -- deps; echo restored",
            $"rm -rf deps && ln -s {RunnerWork}/bin deps && kaizen cache restore --key through -- deps; echo again",
            $"rm -rf out && ln -s {RunnerWork} out && kaizen artifact push deps/planted.txt p.txt && kaizen artifact pull p.txt out/; echo pulled"));

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug));
        var log = await _portal.LogAsync(build.Jobs[0].Id);

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("pulled", log);
        Assert.Empty(Directory.GetFiles(RunnerWork, "planted.txt", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(RunnerWork, "p.txt", SearchOption.AllDirectories));
        Assert.Equal(["kaizen.sh"], Directory.GetFileSystemEntries(Path.Combine(RunnerWork, "bin")).Select(Path.GetFileName));
    }

    [SkippableFact]
    public async Task A_container_jobs_links_lead_its_kaizen_calls_nowhere_outside_its_workspace()
    {
        SandboxRequirement.Check();
        await DockerTestImages.RequireAsync();
        var cache = Path.Combine(RunnerWork, "cache");
        var slug = await _portal.CreateProjectAsync("Through a box", _repo.Path, new
        {
            image = DockerTestImages.Busybox,
            setup = Array.Empty<string>(),
            jobs = new object[]
            {
                new
                {
                    name = "test",
                    commands = new[]
                    {
                        "mkdir -p deps && echo payload > deps/planted.txt && kaizen cache store --key through -- deps",
                        $"rm -rf deps && busybox ln -s {cache} deps && kaizen cache restore --key through -- deps; echo restored",
                        $"busybox ln -s {RunnerWork}/runner.json creds && kaizen artifact push creds; echo \"pushed: $?\"",
                        $"busybox ln -s {RunnerWork} up && kaizen cache store --key up -- up/runner.json; echo stored",
                    },
                },
            },
            epilogue = Array.Empty<string>(),
        });

        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, "main"), timeoutSeconds: 120);
        var log = await _portal.LogAsync(build.Jobs[0].Id);

        Assert.True(build.Status == Status.Passed, await _portal.DescribeAsync(build));
        Assert.Contains("pushed: 2", log);
        Assert.Contains("cache: nothing to store for up", log);
        Assert.Empty(Directory.GetFiles(RunnerWork, "planted.txt", SearchOption.AllDirectories));
        Assert.Empty(await _portal.Service<Kaizen.Portal.Artifacts.ArtifactStore>().OfBuildAsync(build.Id));
    }

    /// <summary>The members of the stored cache entry <paramref name="key"/> as <c>tar -tv</c> lists them.</summary>
    private async Task<List<string>> ArchiveMembersAsync(string slug, string key)
    {
        var project = (await _portal.Service<Kaizen.Portal.Projects.ProjectStore>().FindBySlugAsync(slug))!;
        var entry = (await _portal.Service<Kaizen.Portal.Caches.CacheStore>().OfProjectAsync(project.Id)).Single(e => e.Key == key);
        var blob = Path.Combine(_portal.DataDirectory, "caches", entry.StorageKey);
        var listing = new System.Text.StringBuilder();
        var result = await Kaizen.Runner.Execution.ProcessRunner.RunAsync(
            new Kaizen.Runner.Execution.ProcessRequest("bash", ["-c", $"zstd -q -d -c '{blob}' | tar -tvf -"]),
            data => { listing.Append(System.Text.Encoding.UTF8.GetString(data.Span)); return ValueTask.CompletedTask; }, null, CancellationToken.None);
        Assert.Equal(0, result.ExitCode);
        return [.. listing.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>Host processes whose command line is <c>sleep N</c> for N from <paramref name="tag"/> to tag + 2.</summary>
    private static List<int> SleepersOnHost(int tag) =>
        [.. Enumerable.Range(tag, 3).SelectMany(n => BuildEndToEndTests.HostProcesses($"sleep\0{n}\0"))];
}

/// <summary>Tests that change the process environment or count host processes do not run beside each other.</summary>
[CollectionDefinition(Name)]
public sealed class SandboxCollection
{
    public const string Name = "sandbox";
}

/// <summary>Sandbox tests need bubblewrap: skipped without it locally, failed without it when KAIZEN_REQUIRE_SANDBOX=1 (CI).</summary>
public static class SandboxRequirement
{
    public static void Check()
    {
        var (sandbox, problem) = Kaizen.Runner.Execution.Sandbox.JobSandbox.Create(Path.Combine(Path.GetTempPath(), "kaizen-sandbox-probe"), []);
        if (sandbox is not null)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("KAIZEN_REQUIRE_SANDBOX") == "1")
        {
            Assert.Fail($"A job sandbox is required (KAIZEN_REQUIRE_SANDBOX=1): {problem}");
        }

        Skip.If(true, $"No job sandbox here: {problem}");
    }
}
