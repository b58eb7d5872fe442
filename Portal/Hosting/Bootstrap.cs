using System.Security.Cryptography;
using Kaizen.Portal.Auth;
using Kaizen.Portal.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Kaizen.Portal.Hosting;

/// <summary>Runs before the portal listens: migrations, then the first admin account on an empty database.</summary>
public sealed class Bootstrap(Migrator migrator, UserStore users, IPasswordHasher<UserRow> hasher,
    IOptions<KaizenOptions> options, ILogger<Bootstrap> logger)
{
    public const string AdminName = "admin";

    public async Task RunAsync(CancellationToken ct = default)
    {
        await migrator.MigrateAsync(ct);
        var bootstrap = options.Value.Bootstrap;
        var admin = await users.FindByNameAsync(AdminName, ct);
        if (admin is null && await users.CountAsync(ct) == 0)
        {
            var password = bootstrap.AdminPassword;
            var generated = string.IsNullOrEmpty(password);
            if (generated) password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('/', 'x').Replace('+', 'y');
            var id = await users.CreateAsync(AdminName, hasher.HashPassword(new UserRow(), password!), Roles.Admin, ct);
            admin = new UserRow { Id = id, Name = AdminName, Role = Roles.Admin };
            if (generated)
            {
                // Printed once, on the console only: it is not stored anywhere in clear.
                Console.WriteLine();
                Console.WriteLine($"  Kaizen created the account '{AdminName}' with the password: {password}");
                Console.WriteLine("  Sign in and keep it somewhere safe; it is not shown again.");
                Console.WriteLine();
            }
            else
            {
                logger.LogInformation("Created the account '{Admin}' with the configured password", AdminName);
            }
        }
        if (admin is not null && !string.IsNullOrEmpty(bootstrap.AdminToken)
            && await users.FindByTokenHashAsync(Tokens.Hash(bootstrap.AdminToken), ct) is null)
        {
            await users.AddTokenAsync(admin.Id, "bootstrap", Tokens.Hash(bootstrap.AdminToken), ct);
            logger.LogInformation("Registered Kaizen:Bootstrap:AdminToken as an API token of '{Admin}'", AdminName);
        }
    }
}
