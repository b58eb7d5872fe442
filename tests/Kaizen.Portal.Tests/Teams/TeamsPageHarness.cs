using System.Security.Claims;
using Kaizen.Portal.Audit;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Tests.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Kaizen.Portal.Tests.Teams;

/// <summary>
/// A bUnit context with MudBlazor and the real user store, admin rules, personal tokens and audit log over a migrated
/// SQLite file; someone is signed in with <see cref="SignInAsync"/>. Pages render inside the layout's providers.
/// </summary>
public abstract class TeamsPageHarness : PortalComponentContext
{
    protected AuditLog Audit { get; private set; } = default!;

    protected override Task SetUpAsync()
    {
        Audit = new AuditLog(Db.Database, Db.Clock);
        Services.AddSingleton(Db.Users);
        Services.AddSingleton(Audit);
        Services.AddSingleton<IPasswordHasher<UserRow>, PasswordHasher<UserRow>>();
        Services.AddSingleton<UserAdmin>();
        Services.AddSingleton<TokenUsage>();
        Services.AddSingleton<PersonalTokens>();
        return Task.CompletedTask;
    }

    /// <summary>Creates the user (unless they exist) and signs them in for what renders next; returns their id.</summary>
    protected async Task<long> SignInAsync(string name, string role)
    {
        var id = (await Db.Users.FindByNameAsync(name))?.Id ?? await Db.Users.CreateAsync(name, "", role);
        SignIn(name, role);
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, id.ToString()));
        return id;
    }
}
