using System.Net;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Integration;
using Kaizen.Portal.Tests.Teams;

namespace Kaizen.Portal.Tests.Security;

/// <summary>
/// Sign-in throttling must not become a way to lock someone out: failing on purpose for "admin" from one address
/// leaves the admin free to sign in from theirs, and a client cannot choose the address it is counted under.
/// Clients connect from different loopback addresses (127.0.0.1 and 127.0.0.2) to a portal on 127.0.0.1.
/// </summary>
public sealed class SignInLockoutTests : IAsyncLifetime
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress AdminsMachine = IPAddress.Parse("127.0.0.1");

    private PortalHost _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0);

    public Task DisposeAsync() => _portal.DisposeAsync().AsTask();

    [Fact]
    public async Task Many_failed_sign_ins_for_admin_from_one_address_do_not_stop_the_admin_from_another()
    {
        // Arrange
        using var attacker = new CookieSession(_portal.BaseUrl, Attacker);
        for (var i = 0; i < SignInThrottle.MaxFailuresPerNameAndAddress * 2; i++)
            (await attacker.SignInAsync("admin", "guess-" + i)).Dispose();
        using var attackerAgain = await attacker.SignInAsync("admin", PortalHost.AdminPassword);

        // Act
        using var admin = new CookieSession(_portal.BaseUrl, AdminsMachine);
        await admin.SignInOrFailAsync("admin", PortalHost.AdminPassword);

        // Assert
        Assert.StartsWith("/login?error=locked", attackerAgain.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await admin.Http.GetAsync("/api/v1/me/tokens")).StatusCode);
    }

    [Fact]
    public async Task A_forwarded_for_header_from_a_client_that_is_no_known_proxy_is_ignored_for_throttling()
    {
        // Arrange: every guess claims to come from another address.
        using var attacker = new CookieSession(_portal.BaseUrl, Attacker);
        for (var i = 0; i < SignInThrottle.MaxFailuresPerAddress; i++)
        {
            attacker.Http.DefaultRequestHeaders.Remove("X-Forwarded-For");
            attacker.Http.DefaultRequestHeaders.Add("X-Forwarded-For", $"198.51.100.{i + 1}");
            (await attacker.SignInAsync($"guess{i}", "wrong")).Dispose();
        }
        attacker.Http.DefaultRequestHeaders.Remove("X-Forwarded-For");
        attacker.Http.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.77");

        // Act
        using var next = await attacker.SignInAsync("someone-else", "wrong");

        // Assert: all twenty counted against the connection's own address.
        Assert.StartsWith("/login?error=locked", next.Headers.Location?.OriginalString);
        using var admin = new CookieSession(_portal.BaseUrl, AdminsMachine);
        await admin.SignInOrFailAsync("admin", PortalHost.AdminPassword);
    }
}

/// <summary>Behind a configured reverse proxy, the client it forwards is what throttling counts.</summary>
public sealed class SignInBehindProxyTests : IAsyncLifetime
{
    private PortalHost _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalHost.StartAsync(embeddedSlots: 0,
        settings: new Dictionary<string, string> { ["Kaizen:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });

    public Task DisposeAsync() => _portal.DisposeAsync().AsTask();

    private CookieSession Through(string client, string connectFrom = "127.0.0.1")
    {
        var session = new CookieSession(_portal.BaseUrl, IPAddress.Parse(connectFrom));
        session.Http.DefaultRequestHeaders.Add("X-Forwarded-For", client);
        return session;
    }

    [Fact]
    public async Task Clients_behind_the_known_proxy_are_throttled_each_on_their_own_address()
    {
        // Arrange
        using var attacker = Through("203.0.113.5");
        for (var i = 0; i < SignInThrottle.MaxFailuresPerNameAndAddress; i++) (await attacker.SignInAsync("admin", "guess-" + i)).Dispose();

        // Act
        using var locked = await attacker.SignInAsync("admin", PortalHost.AdminPassword);
        using var admin = Through("198.51.100.7");

        // Assert
        Assert.StartsWith("/login?error=locked", locked.Headers.Location?.OriginalString);
        await admin.SignInOrFailAsync("admin", PortalHost.AdminPassword);
    }

    [Fact]
    public async Task A_client_that_is_not_the_known_proxy_cannot_claim_another_address()
    {
        // Arrange: 127.0.0.3 is not the proxy; what it says in X-Forwarded-For changes nothing.
        using var direct = Through("198.51.100.7", connectFrom: "127.0.0.3");
        for (var i = 0; i < SignInThrottle.MaxFailuresPerNameAndAddress; i++) (await direct.SignInAsync("admin", "guess-" + i)).Dispose();

        // Act
        using var locked = await direct.SignInAsync("admin", PortalHost.AdminPassword);
        using var admin = Through("198.51.100.7");

        // Assert: 127.0.0.3 is locked for admin; the real 198.51.100.7 behind the proxy is not.
        Assert.StartsWith("/login?error=locked", locked.Headers.Location?.OriginalString);
        await admin.SignInOrFailAsync("admin", PortalHost.AdminPassword);
    }
}
