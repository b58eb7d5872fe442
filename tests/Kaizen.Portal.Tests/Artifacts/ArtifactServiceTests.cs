using System.Security.Cryptography;
using Kaizen.Portal.Artifacts;
using Kaizen.Portal.Tests.Data;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Artifacts;

/// <summary>The artifact store and service over both databases and the disk storage: replacement, retention, lookups.</summary>
public sealed class ArtifactServiceTests
{
    private sealed class Harness : IAsyncDisposable
    {
        private Harness(TestDatabase test, KaizenOptions options)
        {
            Test = test;
            Options = options;
            Store = new ArtifactStore(test.Database);
            Storage = new Kaizen.Portal.Storage.DiskBlobStorage(options.Artifacts.ResolveDirectory(options));
            Service = new ArtifactService(Store, Storage, Microsoft.Extensions.Options.Options.Create(options), test.Clock,
                NullLogger<ArtifactService>.Instance);
        }

        public TestDatabase Test { get; }
        public KaizenOptions Options { get; }
        public ArtifactStore Store { get; }
        public Kaizen.Portal.Storage.DiskBlobStorage Storage { get; }
        public ArtifactService Service { get; }
        public RunningJobIdentity Job { get; private set; } = new();

        public static async Task<Harness> CreateAsync(string provider, int keepPerFolder = 10, string? directory = null)
        {
            var test = await TestDatabase.CreateAsync(provider);
            var options = new KaizenOptions
            {
                DataDirectory = Directory.CreateTempSubdirectory("kaizen-artifacts-test-").FullName,
                Artifacts = { KeepPerFolder = keepPerFolder, RetentionDays = 30, MaxMegabytes = 1, Directory = directory },
            };
            var harness = new Harness(test, options);
            var projectId = await test.CreateProjectAsync("cli");
            var buildId = await test.CreateBuildAsync(projectId, TestDatabase.TwoJobs);
            var jobs = await test.Builds.JobsAsync(buildId);
            harness.Job = new RunningJobIdentity { JobId = jobs[0].Id, BuildId = buildId, ProjectId = projectId };
            return harness;
        }

        public Task<ArtifactRow> PushAsync(string scope, string name, string content) =>
            Service.PushAsync(new ArtifactPush(Job, scope, name, Folder: false), new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
                CancellationToken.None);

        public async Task<string> ReadAsync(ArtifactRow artifact)
        {
            await using var stream = await Service.OpenAsync(artifact, CancellationToken.None);
            Assert.NotNull(stream);
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await Test.DisposeAsync();
            Directory.Delete(Options.DataDirectory, recursive: true);
        }
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task A_pushed_build_artifact_is_found_by_name_with_its_size_hash_and_expiry(string provider)
    {
        // Arrange
        await using var h = await Harness.CreateAsync(provider);

        // Act
        var pushed = await h.PushAsync(ArtifactScope.Build, "out/app.txt", "hello");
        var found = await h.Service.FindInBuildAsync(h.Job.BuildId, "out/app.txt", CancellationToken.None);

        // Assert
        Assert.NotNull(found);
        Assert.Equal((pushed.Id, 5L, Convert.ToHexStringLower(SHA256.HashData("hello"u8)), "cli", "test"),
            (found.Id, found.Size, found.Sha256, found.ProjectSlug, found.JobName));
        Assert.Equal(h.Test.Clock.GetUtcNow().AddDays(30).ToUnixTimeMilliseconds(), found.ExpiresAt);
        Assert.Equal("hello", await h.ReadAsync(found));
        Assert.Null(await h.Service.FindInBuildAsync(h.Job.BuildId, "missing", CancellationToken.None));
        Assert.Equal(1, await h.Store.OtherActiveJobsAsync(h.Job.BuildId, h.Job.JobId));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Pushing_the_same_name_again_replaces_the_artifact_and_its_bytes(string provider)
    {
        // Arrange
        await using var h = await Harness.CreateAsync(provider);
        var first = await h.PushAsync(ArtifactScope.Build, "app.txt", "one");

        // Act
        var second = await h.PushAsync(ArtifactScope.Build, "app.txt", "two");

        // Assert
        var artifact = Assert.Single(await h.Store.OfBuildAsync(h.Job.BuildId));
        Assert.Equal(second.Id, artifact.Id);
        Assert.Equal("two", await h.ReadAsync(artifact));
        Assert.Null(await h.Storage.OpenReadAsync(first.StorageKey, CancellationToken.None));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task Project_downloads_resolve_latest_by_folder_and_suffix_and_keep_the_newest_per_folder(string provider)
    {
        // Arrange
        await using var h = await Harness.CreateAsync(provider, keepPerFolder: 2);

        // Act
        foreach (var version in new[] { "1.0", "1.1", "1.2" })
        {
            await h.PushAsync(ArtifactScope.Project, $"cli/cli-{version}.tar.gz", version);
            h.Test.Clock.Advance(TimeSpan.FromMinutes(1));
        }
        await h.PushAsync(ArtifactScope.Project, "other/readme.md", "readme");

        // Assert
        Assert.Equal(["other/readme.md", "cli/cli-1.2.tar.gz", "cli/cli-1.1.tar.gz"],
            (await h.Store.DownloadsAsync(h.Job.ProjectId)).Select(a => a.Name));
        Assert.Null((await h.Store.DownloadsAsync(h.Job.ProjectId)).Single(a => a.Name == "other/readme.md").ExpiresAt);
        var latest = await h.Service.FindDownloadAsync(h.Job.ProjectId, "cli/latest.tar.gz", CancellationToken.None);
        Assert.Equal("cli/cli-1.2.tar.gz", latest?.Name);
        Assert.Equal("cli/cli-1.1.tar.gz", (await h.Service.FindDownloadAsync(h.Job.ProjectId, "cli/cli-1.1.tar.gz", CancellationToken.None))?.Name);
        Assert.Null(await h.Service.FindDownloadAsync(h.Job.ProjectId, "cli/latest.zip", CancellationToken.None));
        Assert.Null(await h.Service.FindDownloadAsync(h.Job.ProjectId, "latest.md", CancellationToken.None));
    }

    [SkippableTheory]
    [InlineData("Sqlite")]
    [InlineData("SqlServer")]
    public async Task The_sweep_deletes_expired_job_and_build_artifacts_but_keeps_downloads(string provider)
    {
        // Arrange
        await using var h = await Harness.CreateAsync(provider);
        var build = await h.PushAsync(ArtifactScope.Build, "a.txt", "a");
        await h.PushAsync(ArtifactScope.Job, "b.txt", "b");
        await h.PushAsync(ArtifactScope.Project, "c.txt", "c");
        h.Test.Clock.Advance(TimeSpan.FromDays(29));
        Assert.Equal(0, await h.Service.SweepAsync(CancellationToken.None));

        // Act
        h.Test.Clock.Advance(TimeSpan.FromDays(2));
        var deleted = await h.Service.SweepAsync(CancellationToken.None);

        // Assert
        Assert.Equal(2, deleted);
        Assert.Equal(["c.txt"], (await h.Store.OfBuildAsync(h.Job.BuildId)).Select(a => a.Name));
        Assert.Null(await h.Storage.OpenReadAsync(build.StorageKey, CancellationToken.None));
    }

    [Fact]
    public async Task An_artifact_over_the_size_limit_is_refused_and_leaves_nothing_behind()
    {
        // Arrange
        await using var h = await Harness.CreateAsync("Sqlite");

        // Act
        var error = await Assert.ThrowsAsync<ArtifactTooLargeException>(() =>
            h.Service.PushAsync(new ArtifactPush(h.Job, ArtifactScope.Build, "big.bin", false), new MemoryStream(new byte[(1 << 20) + 1]),
                CancellationToken.None));

        // Assert
        Assert.Contains("1 MB", error.Message);
        Assert.Empty(await h.Store.OfBuildAsync(h.Job.BuildId));
        Assert.Empty(Directory.EnumerateFiles(h.Storage.Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_disk_error_surfaces_as_an_io_exception_and_records_nothing()
    {
        // Arrange: the storage folder is a file, so no folder can be made under it (even as root).
        var blocker = Path.GetTempFileName();
        await using var h = await Harness.CreateAsync("Sqlite", directory: blocker);

        // Act
        var error = await Record.ExceptionAsync(() => h.PushAsync(ArtifactScope.Build, "a.txt", "a"));

        // Assert
        Assert.IsAssignableFrom<IOException>(error);
        Assert.Empty(await h.Store.OfBuildAsync(h.Job.BuildId));
        File.Delete(blocker);
    }

    [Fact]
    public async Task The_storage_streams_in_small_reads_without_asking_for_the_length()
    {
        // Arrange: 50 MB that exist only as they are read.
        await using var h = await Harness.CreateAsync("Sqlite");
        var source = new GeneratedStream(50L << 20);

        // Act
        var blob = await h.Storage.WriteAsync("1/big", source, 60L << 20, CancellationToken.None);

        // Assert
        Assert.Equal(50L << 20, blob.Size);
        Assert.InRange(source.LargestRead, 1, 128 * 1024);
        Assert.Equal(50L << 20, new FileInfo(Path.Combine(h.Storage.Root, "1", "big")).Length);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    [InlineData("")]
    [InlineData(".")]
    public void Names_that_could_escape_or_carry_control_characters_are_refused(string name) =>
        Assert.NotNull(ArtifactNames.Problem(name));

    [Theory]
    [InlineData("app.txt")]
    [InlineData("cli/cli-1.4.0.tar.gz")]
    [InlineData("a/b/c/report+1@x=y,z~.html")]
    public void Plain_relative_names_are_accepted(string name) => Assert.Null(ArtifactNames.Problem(name));

    /// <summary>Zeros on demand; remembers the largest read asked for. Not seekable, no length.</summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        private long _position;

        public int LargestRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            LargestRead = Math.Max(LargestRead, count);
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
