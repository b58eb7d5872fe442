using System.Net;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Data;
using Kaizen.Portal.Tests.Integration;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>The rate limit itself, on a clock the test moves.</summary>
public sealed class SignInThrottleTests
{
    private readonly ManualClock _clock = new();
    private readonly SignInThrottle _throttle;

    public SignInThrottleTests() => _throttle = new SignInThrottle(_clock);

    private void Fail(string name, int times, string address = "10.0.0.1")
    {
        for (var i = 0; i < times; i++) _throttle.Failed(name, address);
    }

    [Fact]
    public void Five_failures_for_a_name_from_an_address_block_it_there_for_the_rest_of_five_minutes_but_not_elsewhere()
    {
        // Arrange
        Fail("bob", 4);
        var afterFour = _throttle.RetryAfter("bob", "10.0.0.1");

        // Act
        _clock.Advance(TimeSpan.FromMinutes(1));
        Fail("bob", 1);

        // Assert
        Assert.Null(afterFour);
        Assert.Equal(TimeSpan.FromMinutes(4), _throttle.RetryAfter("BOB", "10.0.0.1"));
        Assert.Null(_throttle.RetryAfter("bob", "10.0.0.2"));
        Assert.Null(_throttle.RetryAfter("carol", "10.0.0.1"));
        _clock.Advance(TimeSpan.FromMinutes(4) - TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), _throttle.RetryAfter("bob", "10.0.0.1"));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(_throttle.RetryAfter("bob", "10.0.0.1"));
    }

    [Fact]
    public void Failures_for_a_name_from_many_addresses_never_lock_the_name_itself()
    {
        // Arrange: someone fails for "admin" from many addresses (within each address's limit).
        for (var i = 0; i < 50; i++) Fail("admin", SignInThrottle.MaxFailuresPerNameAndAddress - 1, $"10.0.1.{i}");

        // Act
        var atHome = _throttle.RetryAfter("admin", "192.0.2.10");

        // Assert
        Assert.Null(atHome);
    }

    [Fact]
    public void A_successful_sign_in_clears_the_names_failures()
    {
        // Arrange
        Fail("bob", 4);

        // Act
        _throttle.Succeeded("bob", "10.0.0.1");
        Fail("bob", 4);

        // Assert
        Assert.Null(_throttle.RetryAfter("bob", "10.0.0.1"));
    }

    [Fact]
    public void Twenty_failures_from_one_address_block_it_whatever_name_it_tries_next()
    {
        // Arrange
        for (var i = 0; i < 19; i++) Fail("guess" + i, 1);
        var after19 = _throttle.RetryAfter("someone-new", "10.0.0.1");

        // Act
        Fail("guess-last", 1);

        // Assert
        Assert.Null(after19);
        Assert.Equal(TimeSpan.FromMinutes(5), _throttle.RetryAfter("someone-new", "10.0.0.1"));
        Assert.Null(_throttle.RetryAfter("someone-new", "10.0.0.9"));
    }

    [Theory]
    [InlineData(300, "5 minutes")]
    [InlineData(61, "2 minutes")]
    [InlineData(60, "1 minute")]
    [InlineData(5, "1 minute")]
    public void Waits_are_said_in_whole_minutes_rounded_up(int seconds, string said) =>
        Assert.Equal(said, SignInThrottle.Describe(TimeSpan.FromSeconds(seconds)));
}

/// <summary>The rate limit through the real sign-in form; each test has its own portal, so counts do not mix.</summary>
public sealed class SignInRateLimitTests : IAsyncLifetime
{
    private PortalHost _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public Task DisposeAsync() => _portal.DisposeAsync().AsTask();

    [Fact]
    public async Task After_five_wrong_passwords_even_the_right_one_is_refused_with_how_long_to_wait()
    {
        // Arrange
        await TeamsPortal.CreateUserAsync(_portal, "erin", "member", "erins-password");
        await TeamsPortal.CreateUserAsync(_portal, "frank", "member", "franks-password");
        using var session = new CookieSession(_portal.BaseUrl);
        for (var i = 0; i < SignInThrottle.MaxFailuresPerNameAndAddress; i++)
            using (var wrong = await session.SignInAsync("erin", "wrong-" + i))
                Assert.StartsWith("/login?error=password", wrong.Headers.Location?.OriginalString);

        // Act
        using var right = await session.SignInAsync("erin", "erins-password");
        var page = await session.Http.GetStringAsync(right.Headers.Location);

        // Assert
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.StartsWith("/login?error=locked&minutes=5", right.Headers.Location?.OriginalString);
        Assert.InRange(int.Parse(right.Headers.GetValues("Retry-After").Single()), 290, 300);
        Assert.Contains("Too many failed sign-ins; try again in 5 minutes.", page);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/v1/me/tokens")).StatusCode);
        using var other = new CookieSession(_portal.BaseUrl);
        await other.SignInOrFailAsync("frank", "franks-password");
    }

    [Fact]
    public async Task Signing_in_clears_the_names_failures()
    {
        // Arrange
        await TeamsPortal.CreateUserAsync(_portal, "gina", "member", "ginas-password");
        using var session = new CookieSession(_portal.BaseUrl);

        // Act
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < SignInThrottle.MaxFailuresPerNameAndAddress - 1; i++) (await session.SignInAsync("gina", "wrong")).Dispose();
            await session.SignInOrFailAsync("gina", "ginas-password");
        }

        // Assert: eight failures in all, never five in a row.
        Assert.Equal(HttpStatusCode.OK, (await session.Http.GetAsync("/api/v1/me/tokens")).StatusCode);
    }
}
