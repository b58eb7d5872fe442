using Bunit;
using Kaizen.Portal.Components.Layout;
using Kaizen.Portal.Hosting;
using Kaizen.Portal.Tests.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Tests.Hosting;

/// <summary>The storage banner over the real storage checks (free space of a real folder, a real write to the database).</summary>
public sealed class StorageBannerTests : PortalComponentContext
{
    // Free space is read for the system's temp folder (it exists; nothing is written there).
    private static readonly string DataFolder = Path.GetTempPath();
    private StorageHealth _health = default!;

    protected override Task SetUpAsync()
    {
        _health = Health(minFreeMegabytes: 0);
        Services.AddSingleton(_health);
        return Task.CompletedTask;
    }

    private StorageHealth Health(long minFreeMegabytes) => new(Db.Database,
        Options.Create(new KaizenOptions { DataDirectory = DataFolder, Health = new HealthOptions { MinFreeMegabytes = minFreeMegabytes } }),
        Db.Clock, NullLogger<StorageHealth>.Instance);

    [Fact]
    public async Task Admins_see_nothing_while_storage_is_ok_and_the_banner_with_the_reason_as_soon_as_a_write_fails_for_lack_of_space()
    {
        SignIn("root", "admin");
        var ok = await _health.CheckAsync();
        var cut = Render<StorageBanner>();
        var before = cut.Markup;

        _health.RecordFull();

        Assert.Equal(StorageStatus.Ok, ok.Status);
        Assert.Equal("", before.Trim());
        cut.WaitForAssertion(() =>
        {
            Assert.Contains("The portal's storage is degraded.", cut.Markup);
            Assert.Contains("A write failed for lack of space", cut.Markup);
            Assert.Contains("507 Insufficient Storage", cut.Markup);
        }, WaitTimeout);
    }

    [Fact]
    public async Task The_banner_says_how_much_space_is_free_against_the_minimum_and_goes_when_a_check_finds_room_again()
    {
        SignIn("root", "admin");
        var strict = Health(minFreeMegabytes: long.MaxValue / (1024 * 1024));
        var status = await strict.CheckAsync();
        Services.AddSingleton(strict);
        var cut = Render<StorageBanner>();

        Assert.Equal(StorageStatus.Degraded, status.Status);
        Assert.True(status.DatabaseWritable);
        Assert.Contains("MB free, below the minimum of", cut.Markup);
        Assert.Contains("(Kaizen:Health:MinFreeMegabytes)", cut.Markup);
        Assert.DoesNotContain(DataFolder.TrimEnd('/'), cut.Markup);
    }

    [Theory]
    [InlineData("member")]
    [InlineData("viewer")]
    public async Task Members_and_viewers_never_see_it(string role)
    {
        SignIn("someone", role);
        var strict = Health(minFreeMegabytes: long.MaxValue / (1024 * 1024));
        var status = await strict.CheckAsync();
        Services.AddSingleton(strict);

        var cut = Render<StorageBanner>();

        Assert.Equal(StorageStatus.Degraded, status.Status);
        Assert.Equal("", cut.Markup.Trim());
    }

    [Fact]
    public async Task A_failed_write_stops_counting_once_a_check_finds_room_and_a_writable_database()
    {
        _health.RecordFull();
        var during = _health.Current;
        Db.Clock.Advance(TimeSpan.FromSeconds(2));

        var after = await _health.CheckAsync();

        Assert.Equal(StorageStatus.Degraded, during!.Status);
        Assert.Equal(StorageStatus.Ok, after.Status);
        Assert.True(_health.FullWithin(TimeSpan.FromSeconds(30)), "the lease reaper still knows writes failed recently");
    }

}
