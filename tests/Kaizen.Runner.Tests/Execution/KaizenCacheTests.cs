using System.Security.Cryptography;
using Kaizen.Runner.Execution;
using Kaizen.Runner.Tests.Support;

namespace Kaizen.Runner.Tests.Execution;

/// <summary><c>kaizen cache restore|store</c> in real job shells, with real tar and zstd on real files.</summary>
public sealed class KaizenCacheTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private KaizenFunctions Functions(long maxMegabytes = KaizenFunctions.DefaultCacheMaxMegabytes) =>
        new(_work.Path, cacheMaxMegabytes: maxMegabytes);

    private string[] Entries() =>
        Directory.Exists(_work.Combine("cache"))
            ? [.. Directory.GetFiles(_work.Combine("cache")).Select(Path.GetFileName).Order()!]
            : [];

    [Fact]
    public async Task Restore_on_an_empty_cache_is_a_miss_and_succeeds()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws1"), ("yarn.lock", "lock v1"));

        var (exitCode, output) = await job.RunAsync("kaizen cache restore deps yarn.lock -- node_modules");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^cache: miss for deps-[0-9a-f]{16} \(nothing stored yet\)\n$", output);
        Assert.False(Directory.Exists(job.Combine("node_modules")));
    }

    [Fact]
    public async Task A_stored_tree_comes_back_byte_for_byte_in_a_fresh_workspace()
    {
        var functions = Functions();
        var binary = RandomNumberGenerator.GetBytes(300_000);
        await using (var first = await JobShell.StartAsync(functions, _work.Combine("ws1"), ("yarn.lock", "lock v1")))
        {
            Directory.CreateDirectory(first.Combine("node_modules", "left-pad", "lib"));
            Directory.CreateDirectory(first.Combine("node_modules", "empty"));
            File.WriteAllBytes(first.Combine("node_modules", "left-pad", "lib", "blob.bin"), binary);
            File.WriteAllText(first.Combine("node_modules", "left-pad", "index.js"), "module.exports = 'pad';\n");
            File.WriteAllText(first.Combine("dist.txt"), "a single file\n");
            var (stored, storeLog) = await first.RunAsync(
                "chmod +x node_modules/left-pad/index.js && ln -s left-pad/index.js node_modules/link.js && " +
                "kaizen cache store deps yarn.lock -- node_modules dist.txt");
            Assert.Equal(0, stored);
            Assert.Matches(@"^cache: stored deps-[0-9a-f]{16} \(\d+(\.\d)? [KM]B\) in \d+(\.\d)? m?s\n$", storeLog);
        }

        await using var second = await JobShell.StartAsync(functions, _work.Combine("ws2"), ("yarn.lock", "lock v1"));
        var (exitCode, output) = await second.RunAsync("kaizen cache restore deps yarn.lock -- node_modules dist.txt");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^cache: restored deps-[0-9a-f]{16} \(\d+(\.\d)? [KM]B\) in \d+(\.\d)? m?s\n$", output);
        Assert.Equal(binary, File.ReadAllBytes(second.Combine("node_modules", "left-pad", "lib", "blob.bin")));
        Assert.Equal("module.exports = 'pad';\n", File.ReadAllText(second.Combine("node_modules", "left-pad", "index.js")));
        Assert.Equal("a single file\n", File.ReadAllText(second.Combine("dist.txt")));
        Assert.True(Directory.Exists(second.Combine("node_modules", "empty")));
        Assert.Equal("left-pad/index.js", new FileInfo(second.Combine("node_modules", "link.js")).LinkTarget);
        Assert.Equal(0, (await second.RunAsync("test -x node_modules/left-pad/index.js")).ExitCode);
    }

    [Fact]
    public async Task A_changed_key_file_misses_the_exact_key_but_restores_the_newest_entry()
    {
        var functions = Functions();
        string oldSum;
        await using (var first = await JobShell.StartAsync(functions, _work.Combine("ws1"), ("yarn.lock", "lock v1")))
        {
            Directory.CreateDirectory(first.Combine("node_modules"));
            File.WriteAllText(first.Combine("node_modules", "old.js"), "old\n");
            Assert.Equal(0, (await first.RunAsync("kaizen cache store deps yarn.lock -- node_modules")).ExitCode);
            oldSum = (await first.RunAsync("kaizen checksum yarn.lock")).Output.Trim();
        }

        await using var second = await JobShell.StartAsync(functions, _work.Combine("ws2"), ("yarn.lock", "lock v2"));
        var (exitCode, output) = await second.RunAsync("kaizen cache restore deps yarn.lock -- node_modules");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^cache: no entry for deps-[0-9a-f]{16}, restored the newest deps-[0-9a-f]{16} instead \(", output);
        Assert.Contains($"restored the newest deps-{oldSum} instead", output);
        Assert.Equal("old\n", File.ReadAllText(second.Combine("node_modules", "old.js")));
    }

    [Fact]
    public async Task Storing_a_key_that_exists_skips_and_keeps_the_first_archive()
    {
        var functions = Functions();
        await using var job = await JobShell.StartAsync(functions, _work.Combine("ws1"), ("yarn.lock", "lock v1"));
        Directory.CreateDirectory(job.Combine("node_modules"));
        await job.RunAsync("kaizen cache store deps yarn.lock -- node_modules");
        var archive = Path.Combine(functions.CacheDirectory, Entries().Single());
        var written = File.GetLastWriteTimeUtc(archive);
        File.WriteAllText(job.Combine("node_modules", "new.js"), "changed after the store\n");

        var (exitCode, output) = await job.RunAsync("kaizen cache store deps yarn.lock -- node_modules");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"^cache: deps-[0-9a-f]{16} already stored, skipping\n$", output);
        Assert.Equal(written, File.GetLastWriteTimeUtc(archive));
    }

    [Fact]
    public async Task Missing_paths_are_skipped_with_a_note_and_nothing_to_store_is_not_an_error()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws1"), ("yarn.lock", "lock v1"));

        var (nothing, nothingLog) = await job.RunAsync("kaizen cache store deps yarn.lock -- node_modules");
        File.WriteAllText(job.Combine("present.txt"), "here\n");
        var (some, someLog) = await job.RunAsync("kaizen cache store deps yarn.lock -- node_modules present.txt");

        Assert.Equal(0, nothing);
        Assert.Matches(@"^cache: node_modules does not exist, not stored\ncache: nothing to store for deps-[0-9a-f]{16}\n$", nothingLog);
        Assert.Equal(0, some);
        Assert.StartsWith("cache: node_modules does not exist, not stored\ncache: stored deps-", someLog);
    }

    [Fact]
    public async Task Two_concurrent_stores_of_the_same_key_leave_one_valid_archive()
    {
        var functions = Functions();
        var jobs = new List<JobShell>();
        try
        {
            foreach (var name in new[] { "ws1", "ws2" })
            {
                var job = await JobShell.StartAsync(functions, _work.Combine(name), ("yarn.lock", "lock v1"));
                jobs.Add(job);
                Directory.CreateDirectory(job.Combine("node_modules"));
                for (var i = 0; i < 200; i++)
                {
                    File.WriteAllBytes(job.Combine("node_modules", $"m{i}.bin"), RandomNumberGenerator.GetBytes(10_000));
                }
            }

            var results = await Task.WhenAll(jobs.Select(j => j.RunAsync("kaizen cache store deps yarn.lock -- node_modules")));

            Assert.All(results, r => Assert.Equal(0, r.ExitCode));
            var entry = Assert.Single(Entries());
            Assert.Matches(@"^deps-[0-9a-f]{16}\.tar\.zst$", entry);
            var (listed, listing) = await jobs[0].RunAsync($"zstd -dc {JobExecutor.ShellQuote(Path.Combine(functions.CacheDirectory, entry))} | tar -tf - | grep -c '\\.bin$'");
            Assert.Equal(0, listed);
            Assert.Equal("200\n", listing);
        }
        finally
        {
            foreach (var job in jobs)
            {
                await job.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_corrupt_archive_warns_removes_the_entry_and_the_job_goes_on_without_a_cache()
    {
        var functions = Functions();
        await using var job = await JobShell.StartAsync(functions, _work.Combine("ws1"), ("yarn.lock", "lock v1"));
        Directory.CreateDirectory(job.Combine("node_modules"));
        File.WriteAllBytes(job.Combine("node_modules", "big.bin"), RandomNumberGenerator.GetBytes(200_000));
        await job.RunAsync("kaizen cache store deps yarn.lock -- node_modules");
        var archive = Path.Combine(functions.CacheDirectory, Entries().Single());
        var bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(archive, bytes[..(bytes.Length / 2)]);
        await job.RunAsync("rm -rf node_modules");

        var (exitCode, output) = await job.RunAsync("set -e; kaizen cache restore deps yarn.lock -- node_modules; echo next command runs");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"cache: warning: could not restore deps-[0-9a-f]{16} \(broken archive\); removed it and continuing without a cache\nnext command runs\n$", output);
        Assert.Empty(Entries());
        Assert.False(Directory.Exists(job.Combine("node_modules")));
    }

    [Fact]
    public async Task Beyond_the_size_limit_the_least_recently_used_entries_are_evicted()
    {
        var functions = Functions(maxMegabytes: 2);
        await using var job = await JobShell.StartAsync(functions, _work.Combine("ws1"));
        foreach (var name in new[] { "a", "b" })
        {
            File.WriteAllBytes(job.Combine($"{name}.bin"), RandomNumberGenerator.GetBytes(800_000));
            await job.RunAsync($"kaizen cache store {name} -- {name}.bin");
        }

        // "a" was used after "b" was stored (mtimes set explicitly: both stores may fall in one clock tick).
        File.SetLastWriteTimeUtc(Path.Combine(functions.CacheDirectory, Entries().Single(e => e.StartsWith("b-"))), DateTime.UtcNow.AddMinutes(-2));
        File.SetLastWriteTimeUtc(Path.Combine(functions.CacheDirectory, Entries().Single(e => e.StartsWith("a-"))), DateTime.UtcNow.AddMinutes(-1));
        File.WriteAllBytes(job.Combine("c.bin"), RandomNumberGenerator.GetBytes(800_000));
        var (exitCode, output) = await job.RunAsync("kaizen cache store c -- c.bin");

        Assert.Equal(0, exitCode);
        Assert.Matches(@"cache: evicted b-[0-9a-f]{16} to stay under 2 MB\n$", output);
        Assert.Equal(["a", "c"], Entries().Select(e => e[..1]));
    }

    [Fact]
    public async Task An_unreachable_portal_warns_and_neither_restore_nor_store_fails_the_job()
    {
        // Arrange: a job of a portal that is not listening (nothing answers on the discard port).
        var functions = new KaizenFunctions(_work.Path) { PortalUrl = new Uri("http://127.0.0.1:9") };
        await using var job = await JobShell.StartAsync(functions, _work.Combine("ws1"), "kzj_test", ("yarn.lock", "lock v1"));
        File.WriteAllText(job.Combine("present.txt"), "here\n");

        // Act
        var (exitCode, output) = await job.RunAsync(
            "set -e; kaizen cache restore deps yarn.lock -- node_modules; " +
            "kaizen cache store deps yarn.lock -- present.txt; echo next command runs");

        // Assert
        Assert.Equal(0, exitCode);
        Assert.Matches(@"^cache: warning: could not reach the portal at http://127\.0\.0\.1:9 \([^\n]+\); continuing without a cache\n" +
            @"cache: warning: could not reach the portal at http://127\.0\.0\.1:9 \([^\n]+\); deps-[0-9a-f]{16} not stored\n" +
            "next command runs\n$", output);
        Assert.Empty(Entries());
    }

    [Fact]
    public async Task Key_templates_and_fallback_prefixes_work_in_a_local_folder_too()
    {
        var functions = Functions();
        await using var job = await JobShell.StartAsync(functions, _work.Combine("ws1"), ("yarn.lock", "lock v1"));
        Directory.CreateDirectory(job.Combine("out"));
        File.WriteAllText(job.Combine("out", "v.txt"), "one\n");
        var sum = (await job.RunAsync("kaizen checksum yarn.lock")).Output.Trim();
        Assert.Equal(0, (await job.RunAsync("kaizen cache store --key 'node-{{ checksum \"yarn.lock\" }}' -- out")).ExitCode);
        await job.RunAsync("rm -rf out");

        var (exact, exactLog) = await job.RunAsync("kaizen cache restore --key 'node-{{ checksum yarn.lock }}' -- out");
        await job.RunAsync("rm -rf out");
        var (fallback, fallbackLog) = await job.RunAsync("kaizen cache restore --key node-other --fallback gradle- --fallback node- -- out");

        Assert.Equal((0, 0), (exact, fallback));
        Assert.StartsWith($"cache: restored node-{sum} (", exactLog);
        Assert.StartsWith($"cache: no entry for node-other, restored the newest node-{sum} instead (", fallbackLog);
        Assert.Equal("one\n", File.ReadAllText(job.Combine("out", "v.txt")));
    }

    [Fact]
    public async Task The_checksum_covers_the_key_files_in_order_and_notes_missing_ones()
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws1"), ("a.lock", "A"), ("b.lock", "B"));

        var (_, ab) = await job.RunAsync("kaizen checksum a.lock b.lock");
        var (_, ba) = await job.RunAsync("kaizen checksum b.lock a.lock");
        var (_, withMissing) = await job.RunAsync("kaizen checksum a.lock b.lock c.lock");
        var (_, again) = await job.RunAsync("kaizen checksum a.lock b.lock");

        Assert.Matches("^[0-9a-f]{16}\n$", ab);
        Assert.NotEqual(ab, ba);
        Assert.NotEqual(ab, withMissing);
        Assert.Equal(ab, again);
    }

    [Theory]
    [InlineData("kaizen", 2)]
    [InlineData("kaizen frobnicate", 2)]
    [InlineData("kaizen --help", 0)]
    public async Task Unknown_commands_and_help_print_the_usage(string command, int expected)
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws1"));

        var (exitCode, output) = await job.RunAsync(command);

        Assert.Equal(expected, exitCode);
        Assert.StartsWith("Usage:\n  kaizen cache restore NAME KEYFILE... -- PATH...", output);
    }

    [Theory]
    [InlineData("kaizen", 2)]
    [InlineData("kaizen frobnicate", 2)]
    [InlineData("kaizen cache restore deps yarn.lock", 2)]
    [InlineData("kaizen cache restore 'bad/name' -- x", 2)]
    [InlineData("kaizen cache store deps -- /etc", 2)]
    [InlineData("kaizen cache store deps -- ../outside", 2)]
    [InlineData("kaizen help", 0)]
    public async Task Usage_errors_exit_with_2_and_help_succeeds(string command, int expected)
    {
        await using var job = await JobShell.StartAsync(Functions(), _work.Combine("ws1"));

        var (exitCode, output) = await job.RunAsync(command);

        Assert.Equal(expected, exitCode);
        Assert.NotEmpty(output);
    }
}
