using System.Globalization;
using System.Security.Claims;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Debug;
using Kaizen.Portal.Tests.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Components.Debug;

/// <summary>
/// A bUnit context with MudBlazor and the real debug session service over a migrated SQLite file: a public project
/// "shop" with a passed build (its one job finished), a registered runner, and the users admin "ada", members "mia" and
/// "max" and viewer "vic". Tests sign in one of them with <see cref="SignInAs"/>.
/// </summary>
public abstract class DebugHarness : PortalComponentContext
{
    protected DebugSessionService Sessions { get; private set; } = default!;
    protected DebugSessionStore Store { get; private set; } = default!;
    protected long ProjectId { get; private set; }
    protected long RunnerId { get; private set; }
    protected long BuildId { get; private set; }
    protected long JobId { get; private set; }
    private readonly Dictionary<string, (long Id, string Role)> _users = [];

    protected override async Task SetUpAsync()
    {
        AddBuildAndDeployServices(new EphemeralDataProtectionProvider());
        Sessions = Services.GetRequiredService<DebugSessionService>();
        Store = Services.GetRequiredService<DebugSessionStore>();
        foreach (var (name, role) in new[] { ("ada", Roles.Admin), ("mia", Roles.Member), ("max", Roles.Member), ("vic", Roles.Viewer) })
            _users[name] = (await Db.Users.CreateAsync(name, "hash", role), role);

        ProjectId = await Db.CreateProjectAsync("shop", TestDatabase.OneJob());
        RunnerId = await Db.RegisterRunnerAsync("runner-1");
        BuildId = await PassedBuildAsync(RunnerId, ProjectId);
        JobId = (await Db.Builds.JobsAsync(BuildId)).Single().Id;
    }

    /// <summary>Signs <paramref name="name"/> in, with their id as the page reads it.</summary>
    protected void SignInAs(string name)
    {
        var (id, role) = _users[name];
        SignIn(name, role);
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, id.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>The principal the service sees for <paramref name="name"/>.</summary>
    protected ClaimsPrincipal Principal(string name)
    {
        var (id, role) = _users[name];
        return new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, id.ToString(CultureInfo.InvariantCulture)),
            new Claim(ClaimTypes.Name, name),
            new Claim(ClaimTypes.Role, role),
        ], "test"));
    }

    /// <summary>A debug session of the finished job, started by <paramref name="name"/>.</summary>
    protected async Task<DebugSessionRow> StartAsync(string name, double minutes = 10, long? jobId = null)
    {
        var started = await Sessions.StartAsync(jobId ?? JobId, DebugKinds.Debug, new DebugRequest(minutes), Principal(name));
        Assert.True(started.Ok, started.Message);
        return started.Value!;
    }

    /// <summary>The runner took the session and opened its shell (with an SSH command to offer).</summary>
    protected async Task OpenAsync(long sessionId, string? ssh = null)
    {
        var now = Db.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var claimed = await Store.ClaimAsync(RunnerId, docker: false, now);
        Assert.Equal(sessionId, claimed?.Id);
        await Sessions.RunnerReadyAsync(sessionId, ssh);
    }
}
