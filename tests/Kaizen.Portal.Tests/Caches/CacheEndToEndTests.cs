using System.Net;
using System.Net.Http.Json;
using Kaizen.Portal.Api;
using Kaizen.Portal.Builds;
using Kaizen.Portal.Caches;
using Kaizen.Portal.Projects;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Portal.Tests.Caches;

/// <summary>
/// Dependency caches through the real portal, real runners (two, with work folders of their own) and real bash, tar, zstd
/// and curl: <c>kaizen cache store|restore</c> in jobs, write-once keys, fallbacks, eviction, broken archives and forks.
/// </summary>
public sealed class CacheEndToEndTests : IAsyncLifetime
{
    /// <summary>Small enough that three entries of ~700 KB do not fit, so eviction is cheap to reach.</summary>
    private const int BudgetMegabytes = 2;

    private PortalHost _portal = null!;
    private GitRepo _repo = null!;
    private readonly TempDirectory _runners = new();

    public async Task InitializeAsync()
    {
        _portal = await PortalHost.StartAsync(embeddedSlots: 0, settings: new Dictionary<string, string>
        {
            ["Kaizen:Caches:ProjectMegabytes"] = BudgetMegabytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        _repo = await GitRepo.CreateAsync("main");
        await _repo.CommitAsync("First", ("yarn.lock", "left-pad@1.3.0\n"));
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        _repo.Dispose();
        _runners.Dispose();
    }

    private Task<string> ProjectAsync(params string[] commands) =>
        _portal.CreateProjectAsync("Caches " + Guid.NewGuid().ToString("N")[..6], _repo.Path, PortalHost.OneJob(commands));

    /// <summary>Runs one build of <paramref name="slug"/> to its end and returns its only job's log.</summary>
    private async Task<(BuildResponse Build, string Log)> BuildAsync(string slug)
    {
        var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 120);
        return (build, await _portal.LogAsync(build.Jobs[0].Id));
    }

    private async Task<CacheSummary> CachesAsync(string slug) =>
        (await _portal.Api.GetFromJsonAsync<CacheSummary>($"/api/v1/projects/{slug}/caches"))!;

    private static readonly string[] DepsJob =
    [
        "kaizen cache restore deps yarn.lock -- node_modules",
        "test -f node_modules/dep.js || { mkdir -p node_modules/lib && echo \"installed by build $KAIZEN_BUILD_ID\" > node_modules/dep.js && head -c 300000 /dev/urandom > node_modules/lib/blob.bin && ln -s ../dep.js node_modules/lib/link.js; }",
        "kaizen cache store deps yarn.lock -- node_modules",
        "cat node_modules/lib/link.js && sha256sum node_modules/lib/blob.bin",
    ];

    [Fact]
    public async Task A_cache_stored_by_one_runner_is_restored_by_another_runner_with_its_own_folder()
    {
        // Arrange: the first build runs on runner one only.
        var slug = await ProjectAsync(DepsJob);
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        var (first, firstLog) = await BuildAsync(slug);
        await _portal.StopRunnersAsync();

        // Act: the second build can only run on runner two, which never saw the first build; the third runs there too.
        _portal.StartRunner("two", workDirectory: _runners.Combine("two"));
        var (second, secondLog) = await BuildAsync(slug);
        var (third, thirdLog) = await BuildAsync(slug);

        // Assert
        Assert.True(first.Status == Status.Passed, firstLog);
        Assert.True(second.Status == Status.Passed, secondLog);
        Assert.Matches(@"cache: miss for deps-[0-9a-f]{16} \(nothing stored yet\)", firstLog);
        Assert.Matches(@"cache: stored deps-[0-9a-f]{16} \(\d+(\.\d)? [KM]B\) in ", firstLog);
        Assert.Matches(@"cache: restored deps-[0-9a-f]{16} \(\d+(\.\d)? [KM]B\) in ", secondLog);
        Assert.Matches(@"cache: deps-[0-9a-f]{16} already stored, skipping", secondLog);
        Assert.Contains($"installed by build {first.Id}", secondLog);
        var blobSum = (string log) => log.Split('\n').Single(l => l.EndsWith("node_modules/lib/blob.bin", StringComparison.Ordinal));
        Assert.Equal(blobSum(firstLog), blobSum(secondLog));
        // Runner two kept a copy of what it fetched, named by the entry's id, and the third build used it (the portal
        // still decides what matches, and counts the hit).
        Assert.True(third.Status == Status.Passed, thirdLog);
        Assert.Matches(@"cache: restored deps-[0-9a-f]{16} \(\d+(\.\d)? [KM]B, this runner's copy\) in ", thirdLog);
        Assert.Contains($"installed by build {first.Id}", thirdLog);
        Assert.Equal(blobSum(firstLog), blobSum(thirdLog));
        var caches = await CachesAsync(slug);
        var entry = Assert.Single(caches.Entries);
        Assert.Equal(("deps", 2L), (entry.Name, entry.Hits));
        var deps = Assert.Single(caches.Names);
        Assert.Equal((3L, 2L, 0L, 1L), (deps.Restores, deps.ExactHits, deps.FallbackHits, deps.Misses));
        Assert.Equal(2.0 / 3, deps.HitRate!.Value, 3);
    }

    [Theory]
    [InlineData("replaced")]
    [InlineData("truncated")]
    public async Task A_runners_copy_that_no_longer_hashes_to_the_portals_entry_is_not_restored_and_the_portals_bytes_are(string damage)
    {
        // Arrange: runner one stores the entry, then restores it from the portal and keeps a copy.
        var slug = await ProjectAsync(
            "rm -rf deps && kaizen cache restore --key deps-1 -- deps; cat deps/who 2>/dev/null || echo none",
            "test -f deps/who || { mkdir -p deps && echo \"stored by build $KAIZEN_BUILD_ID\" > deps/who && head -c 100000 /dev/urandom > deps/r.bin; }",
            "kaizen cache store --key deps-1 -- deps");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        var (stored, storedLog) = await BuildAsync(slug);
        var (fetched, fetchedLog) = await BuildAsync(slug);
        Assert.True(stored.Status == Status.Passed && fetched.Status == Status.Passed, storedLog + fetchedLog);
        var copy = Assert.Single(Directory.GetFiles(_runners.Combine("one", "cache"), "deps-1@*.tar.zst", SearchOption.AllDirectories));

        // The copy changes on the runner's disk: another tree in a valid archive, or half of it.
        if (damage == "replaced")
        {
            var poisoned = _runners.Combine("poisoned");
            Directory.CreateDirectory(Path.Combine(poisoned, "deps"));
            await File.WriteAllTextAsync(Path.Combine(poisoned, "deps", "who"), "poisoned\n");
            Assert.Equal(0, (await Kaizen.Runner.Execution.ProcessRunner.RunAsync(
                new Kaizen.Runner.Execution.ProcessRequest("bash", ["-c", $"cd '{poisoned}' && tar -cf - deps | zstd -q -c > '{copy}'"]), null, null, CancellationToken.None)).ExitCode);
        }
        else
        {
            var bytes = await File.ReadAllBytesAsync(copy);
            await File.WriteAllBytesAsync(copy, bytes[..(bytes.Length / 2)]);
        }

        // Act
        var (again, againLog) = await BuildAsync(slug);

        // Assert: the copy was set aside before anything was extracted, and the portal's entry restored instead.
        Assert.True(again.Status == Status.Passed, againLog);
        Assert.Contains("cache: warning: this runner's copy of deps-1 does not match the portal's entry; removed it, fetching the entry", againLog);
        Assert.Matches(@"cache: restored deps-1 \(\d+(\.\d)? [KM]B\) in ", againLog);
        Assert.DoesNotContain("poisoned", againLog);
        Assert.Contains($"stored by build {stored.Id}", againLog);

        // The fresh download is this runner's copy again, and the next restore uses it.
        var (fourth, fourthLog) = await BuildAsync(slug);
        Assert.True(fourth.Status == Status.Passed, fourthLog);
        Assert.Matches(@"cache: restored deps-1 \(\d+(\.\d)? [KM]B, this runner's copy\) in ", fourthLog);
        Assert.Contains($"stored by build {stored.Id}", fourthLog);
    }

    [Fact]
    public async Task Two_jobs_storing_one_key_at_once_leave_the_first_complete_upload_and_a_later_store_changes_nothing()
    {
        // Arrange: two jobs of one build make different trees for the same key.
        var make = "mkdir -p data && echo \"from $KAIZEN_JOB_NAME\" > data/who.txt && for i in $(seq 1 200); do head -c 2000 /dev/urandom > data/f$i.bin; done";
        var slug = await _portal.CreateProjectAsync("Race " + Guid.NewGuid().ToString("N")[..6], _repo.Path, new
        {
            setup = Array.Empty<string>(),
            jobs = new[]
            {
                new { name = "left", commands = new[] { make, "kaizen cache store --key shared-v1 -- data" } },
                new { name = "right", commands = new[] { make, "kaizen cache store --key shared-v1 -- data" } },
            },
            epilogue = Array.Empty<string>(),
        });
        _portal.StartRunner("wide", slots: 2, workDirectory: _runners.Combine("wide"));

        // Act
        var racing = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug), timeoutSeconds: 120);
        var logs = await Task.WhenAll(racing.Jobs.Select(j => _portal.LogAsync(j.Id)));
        var storedAt = Assert.Single((await CachesAsync(slug)).Entries).CreatedAt;
        await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob(
            "mkdir -p data && echo from-later > data/who.txt && kaizen cache store --key shared-v1 -- data",
            "rm -rf data && kaizen cache restore --key shared-v1 -- data && cat data/who.txt && ls data | wc -l"));
        var (later, laterLog) = await BuildAsync(slug);

        // Assert: one stored, the other found it there (before or after its upload); the entry is one whole tree.
        Assert.True(racing.Status == Status.Passed, await _portal.DescribeAsync(racing));
        Assert.True(logs.Count(l => l.Contains("cache: stored shared-v1 (")) == 1, string.Join("\n----\n", logs));
        Assert.True(logs.Count(l => l.Contains("cache: shared-v1 already stored, skipping") || l.Contains("cache: shared-v1 was stored meanwhile by another job")) == 1,
            string.Join("\n----\n", logs));
        var winner = racing.Jobs[Array.FindIndex(logs, l => l.Contains("cache: stored shared-v1 ("))].Name;
        Assert.True(later.Status == Status.Passed, laterLog);
        Assert.Contains("cache: shared-v1 already stored, skipping", laterLog);
        Assert.Contains($"from {winner}\n201\n", laterLog.Replace("\r", ""));
        Assert.Equal(storedAt, Assert.Single((await CachesAsync(slug)).Entries).CreatedAt);
    }

    [Fact]
    public async Task A_restore_falls_back_to_the_first_prefix_that_matches_and_takes_its_newest_entry()
    {
        // Arrange
        var slug = await ProjectAsync(
            "mkdir -p out && echo old > out/v.txt && kaizen cache store --key node-linux-aaa -- out",
            "sleep 0.05; echo new > out/v.txt && kaizen cache store --key node-linux-bbb -- out",
            "echo other > out/v.txt && kaizen cache store --key gradle-1 -- out");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        var (setup, setupLog) = await BuildAsync(slug);
        Assert.True(setup.Status == Status.Passed, setupLog);
        await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob(
            "rm -rf out && kaizen cache restore --key 'node-linux-{{ checksum \"yarn.lock\" }}' --fallback node-mac- --fallback node-linux- --fallback gradle- -- out && cat out/v.txt",
            "rm -rf out && kaizen cache restore --key nothing-here --fallback nope- -- out && test ! -e out && echo no-tree"));

        // Act
        var (build, log) = await BuildAsync(slug);

        // Assert
        Assert.True(build.Status == Status.Passed, log);
        Assert.Matches(@"cache: no entry for node-linux-[0-9a-f]{16}, restored the newest node-linux-bbb instead \(", log);
        Assert.Contains("\nnew\n", log.Replace("\r", ""));
        Assert.Contains("cache: miss for nothing-here (nothing stored yet)", log);
        Assert.Contains("no-tree", log);
        var names = (await CachesAsync(slug)).Names;
        Assert.Equal((1L, 0L), (names.Single(n => n.Name == "node-linux").FallbackHits, names.Single(n => n.Name == "node-linux").ExactHits));
        Assert.Equal(1L, names.Single(n => n.Name == "nothing-here").Misses);
    }

    [Fact]
    public async Task Beyond_the_project_budget_the_least_recently_used_entries_are_evicted()
    {
        // Arrange: a, then b; then a is restored, so b is the least recently used when c arrives (3 × 700 KB > 2 MB).
        var slug = await ProjectAsync(
            "head -c 700000 /dev/urandom > a.bin && kaizen cache store --key a -- a.bin",
            "head -c 700000 /dev/urandom > b.bin && kaizen cache store --key b -- b.bin",
            "sleep 0.05; kaizen cache restore --key a -- a.bin");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        var (setup, setupLog) = await BuildAsync(slug);
        Assert.True(setup.Status == Status.Passed, setupLog);
        await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob(
            "head -c 700000 /dev/urandom > c.bin && kaizen cache store --key c -- c.bin"));

        // Act
        var (build, log) = await BuildAsync(slug);

        // Assert
        Assert.True(build.Status == Status.Passed, log);
        Assert.Contains("cache: evicted b (least recently used)", log);
        var caches = await CachesAsync(slug);
        Assert.Equal(["a", "c"], caches.Entries.Select(e => e.Key).Order());
        Assert.True(caches.TotalSize <= BudgetMegabytes * 1024 * 1024, $"{caches.TotalSize} bytes stored");
    }

    [Fact]
    public async Task A_truncated_archive_on_restore_warns_removes_the_half_tree_and_the_job_goes_on()
    {
        // Arrange
        var slug = await ProjectAsync(
            "mkdir -p deps && for i in $(seq 1 50); do head -c 20000 /dev/urandom > deps/f$i.bin; done && kaizen cache store --key deps-1 -- deps");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        var (setup, setupLog) = await BuildAsync(slug);
        Assert.True(setup.Status == Status.Passed, setupLog);
        var project = (await _portal.Service<ProjectStore>().FindBySlugAsync(slug))!;
        var entry = (await _portal.Service<CacheStore>().FindAsync(project.Id, "main", "deps-1"))!;
        var blob = Path.Combine(_portal.DataDirectory, "caches", entry.StorageKey);
        var bytes = await File.ReadAllBytesAsync(blob);
        await File.WriteAllBytesAsync(blob, bytes[..(bytes.Length / 2)]);
        await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob(
            "set -e; kaizen cache restore --key deps-1 -- deps; echo next command runs",
            "test ! -e deps && echo no half tree"));

        // Act
        var (build, log) = await BuildAsync(slug);

        // Assert
        Assert.True(build.Status == Status.Passed, log);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(log.Replace("\r", ""),
            @"cache: warning: could not restore deps-1 \(broken or cut-off archive: [^\n]+\); continuing without a cache\n"), log);
        Assert.Contains("next command runs", log);
        Assert.Contains("no half tree", log);
    }

    [Fact]
    public async Task A_forks_build_restores_caches_but_cannot_store_them_and_an_upload_without_its_completion_mark_is_refused()
    {
        // Arrange: the project's own build stores "deps-1"; a fork's build then tries to store and to overwrite. The
        // fork's build runs sandboxed (the portal gives forks to sandboxed runners only), so it holds no token and its
        // kaizen calls carry the fork build's own: the portal refuses the store.
        var slug = await ProjectAsync("mkdir -p deps && echo trusted > deps/x && kaizen cache store --key deps-1 -- deps");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        var (own, ownLog) = await BuildAsync(slug);
        Assert.True(own.Status == Status.Passed, ownLog);
        await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob(
            "rm -rf deps && kaizen cache restore --key deps-1 -- deps && cat deps/x",
            "echo poisoned > deps/x && kaizen cache store --key deps-2 -- deps",
            "[ -z \"${KAIZEN_JOB_TOKEN-}\" ] && echo no token in the job"));
        var project = (await _portal.Service<ProjectStore>().FindBySlugAsync(slug))!;

        // Act
        var started = await _portal.Service<BuildService>().StartAsync(project, "main", Trigger.PullRequest, "outsider",
            CancellationToken.None, fromFork: true);
        var fork = await _portal.WaitForBuildAsync(started.Value, timeoutSeconds: 120);
        var forkLog = await _portal.LogAsync(fork.Jobs[0].Id);

        // Without a sandbox (a trusted runner, for the project's own build) the job holds its token and tries by hand.
        await _portal.StopRunnersAsync();
        _portal.StartRunner("trusted", workDirectory: _runners.Combine("trusted"), sandbox: Kaizen.Runner.Protocol.RunnerSandbox.None);
        const string put = "curl -s -o /dev/null -w '%{http_code}' -T plain.zst -H \"Authorization: Bearer $KAIZEN_JOB_TOKEN\" \"$KAIZEN_PORTAL_URL/api/jobs/caches/";
        await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob(
            "echo unmarked | zstd -q -c > plain.zst",
            $"echo \"direct put answered $({put}deps-4\")\""));
        var (unmarked, unmarkedLog) = await BuildAsync(slug);

        // Assert
        Assert.True(fork.Status == Status.Passed, forkLog);
        Assert.Contains("cache: restored deps-1", forkLog);
        Assert.Contains("trusted", forkLog);
        Assert.Contains("cache: not storing deps-2: builds of pull requests from forks may restore caches but not store them", forkLog);
        Assert.Contains("no token in the job", forkLog);
        Assert.True(unmarked.Status == Status.Passed, unmarkedLog);
        Assert.Contains("direct put answered 400", unmarkedLog);
        Assert.Equal(["deps-1"], (await CachesAsync(slug)).Entries.Select(e => e.Key));
    }

    [Fact]
    public async Task A_job_without_zstd_or_tar_of_its_own_stores_and_restores_because_the_runner_does_the_archive_work()
    {
        // Arrange: the first job hides zstd (a PATH of everything else), like a minimal container image. The archive work is
        // the runner's (its own zstd and tar, on the job's files), so the job's PATH does not matter to it.
        const string hideZstd = "hide=/tmp/kaizen-nozstd-$KAIZEN_JOB_ID && mkdir -p $hide && for f in /usr/bin/* /bin/*; do " +
            "case ${f##*/} in *zstd*) ;; *) ln -sf \"$f\" $hide/ ;; esac; done && export PATH=$hide && ! command -v zstd";
        var slug = await ProjectAsync(hideZstd,
            "mkdir -p deps && head -c 100000 /dev/urandom > deps/r.bin && echo plain > deps/x && sha256sum deps/r.bin && kaizen cache store --key plain-1 -- deps",
            "rm -rf deps && kaizen cache restore --key plain-1 -- deps && cat deps/x && sha256sum deps/r.bin",
            "rm -rf \"$hide\"");
        // Without a sandbox: the job's own shell is the runner's host, and its PATH still does not reach the calls.
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"), sandbox: Kaizen.Runner.Protocol.RunnerSandbox.None);
        var (plain, plainLog) = await BuildAsync(slug);
        await _portal.Api.PutAsJsonAsync($"/api/v1/projects/{slug}/settings", PortalHost.OneJob(
            "kaizen cache restore --key plain-1 -- deps && cat deps/x && sha256sum deps/r.bin"));

        // Act
        var (native, nativeLog) = await BuildAsync(slug);

        // Assert
        Assert.True(plain.Status == Status.Passed, plainLog);
        Assert.Contains("cache: stored plain-1 (", plainLog);
        Assert.Matches(@"cache: restored plain-1 \(\d+(\.\d)? [KM]B\) in ", plainLog);
        var sums = plainLog.Split('\n').Where(l => l.EndsWith("deps/r.bin", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, sums.Count);
        Assert.Equal(sums[0], sums[1]);
        Assert.True(native.Status == Status.Passed, nativeLog);
        Assert.Matches(@"cache: restored plain-1 \(\d+(\.\d)? [KM]B, this runner's copy\) in ", nativeLog);
        Assert.Contains(sums[0], nativeLog);
        var project = (await _portal.Service<ProjectStore>().FindBySlugAsync(slug))!;
        var entry = (await _portal.Service<CacheStore>().FindAsync(project.Id, "main", "plain-1"))!;
        var stored = await File.ReadAllBytesAsync(Path.Combine(_portal.DataDirectory, "caches", entry.StorageKey));
        Assert.Equal(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }, stored[..4]);
        Assert.Equal(CacheService.CompleteMark.ToArray(), stored[^16..]);
    }

    [Fact]
    public async Task Members_delete_one_entry_or_all_through_the_api_and_visitors_see_nothing()
    {
        // Arrange
        var slug = await ProjectAsync("echo x > x && kaizen cache store --key one -- x && kaizen cache store --key two -- x");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        var (build, log) = await BuildAsync(slug);
        Assert.True(build.Status == Status.Passed, log);
        using var anonymous = new HttpClient { BaseAddress = _portal.BaseUrl };

        // Act
        var visitor = await anonymous.GetAsync($"/api/v1/projects/{slug}/caches");
        var deleteOne = await _portal.Api.DeleteAsync($"/api/v1/projects/{slug}/caches/one");
        var afterOne = (await CachesAsync(slug)).Entries.Select(e => e.Key).ToList();
        var deleteMissing = await _portal.Api.DeleteAsync($"/api/v1/projects/{slug}/caches/one");
        var deleteAll = await _portal.Api.DeleteAsync($"/api/v1/projects/{slug}/caches");

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, visitor.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleteOne.StatusCode);
        Assert.Equal(["two"], afterOne);
        Assert.Equal(HttpStatusCode.NotFound, deleteMissing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, deleteAll.StatusCode);
        Assert.Empty((await CachesAsync(slug)).Entries);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_portal.DataDirectory, "caches"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_branch_restores_its_own_entries_then_the_default_branchs_and_never_another_branchs()
    {
        // Arrange: every build restores deps-1 exactly and by prefix, then stores deps-1 holding its own branch's name.
        // The feature branch builds first, so before the fix the main build would restore what it stored (poisoning).
        await _repo.GitAsync("branch", "feature");
        await _repo.GitAsync("branch", "other");
        var slug = await ProjectAsync(
            "rm -rf deps && kaizen cache restore --key deps-1 -- deps && echo \"exact: $(cat deps/who 2>/dev/null || echo none)\"",
            "rm -rf deps && kaizen cache restore --key deps-9 --fallback deps- -- deps && echo \"prefix: $(cat deps/who 2>/dev/null || echo none)\"",
            "mkdir -p deps && echo \"stored by $KAIZEN_BRANCH\" > deps/who && kaizen cache store --key deps-1 -- deps");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        async Task<string> OnAsync(string branch)
        {
            var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, branch), timeoutSeconds: 120);
            var log = (await _portal.LogAsync(build.Jobs[0].Id)).Replace("\r", "");
            Assert.True(build.Status == Status.Passed, log);
            return log;
        }

        // Act
        var feature = await OnAsync("feature");
        var main = await OnAsync("main");
        var other = await OnAsync("other");
        var mainAgain = await OnAsync("main");
        var featureAgain = await OnAsync("feature");

        // Assert: main never got the feature branch's entry, and stored its own beside it.
        Assert.Contains("cache: stored deps-1 (", feature);
        Assert.Contains("exact: none\n", main);
        Assert.Contains("prefix: none\n", main);
        Assert.Contains("cache: stored deps-1 (", main);
        // A branch without entries of its own starts from the default branch's.
        Assert.Contains("exact: stored by main\n", other);
        Assert.Contains("prefix: stored by main\n", other);
        Assert.Contains("cache: stored deps-1 (", other);
        Assert.Contains("exact: stored by main\n", mainAgain);
        Assert.Contains("prefix: stored by main\n", mainAgain);
        Assert.Contains("cache: deps-1 already stored, skipping", mainAgain);
        // A branch's own entry comes before the default branch's.
        Assert.Contains("exact: stored by feature\n", featureAgain);
        Assert.DoesNotContain("stored by feature", main + other + mainAgain);
        var entries = (await CachesAsync(slug)).Entries;
        Assert.Equal(["feature", "main", "other"], entries.Where(e => e.Key == "deps-1").Select(e => e.Branch).Order());
        var json = await _portal.Api.GetStringAsync($"/api/v1/projects/{slug}/caches");
        Assert.Contains("\"branch\":\"feature\"", json);
    }

    [Fact]
    public async Task Deleting_a_key_through_the_api_takes_one_branchs_entry_when_the_branch_is_given()
    {
        // Arrange: main and feature both store "one".
        await _repo.GitAsync("branch", "feature");
        var slug = await ProjectAsync("echo x > x && kaizen cache store --key one -- x");
        _portal.StartRunner("one", workDirectory: _runners.Combine("one"));
        foreach (var branch in new[] { "main", "feature" })
        {
            var build = await _portal.WaitForBuildAsync(await _portal.StartBuildAsync(slug, branch), timeoutSeconds: 120);
            Assert.True(build.Status == Status.Passed, await _portal.LogAsync(build.Jobs[0].Id));
        }

        // Act
        var deleteFeature = await _portal.Api.DeleteAsync($"/api/v1/projects/{slug}/caches/one?branch=feature");
        var left = (await CachesAsync(slug)).Entries.Select(e => (e.Key, e.Branch)).ToList();
        var deleteFeatureAgain = await _portal.Api.DeleteAsync($"/api/v1/projects/{slug}/caches/one?branch=feature");

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, deleteFeature.StatusCode);
        Assert.Equal([("one", "main")], left);
        Assert.Equal(HttpStatusCode.NotFound, deleteFeatureAgain.StatusCode);
    }
}
